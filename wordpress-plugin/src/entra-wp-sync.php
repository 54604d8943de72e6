<?php
/**
 * Plugin Name:       Entra WP Sync companion
 * Description:       Companion must-use plugin for entra-wp-sync: registers the tool's user meta for REST and serves the entra-wp-sync/v1 REST namespace.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            entra-wp-sync
 * License:           MIT
 * Text Domain:       entra-wp-sync
 *
 * Install by copying this one file into wp-content/mu-plugins/.
 *
 * Loads on PHP 7.4 to 8.5 and runs on PHP 8.1 or newer. WordPress loads a must-use
 * plugin whatever its Requires PHP header says, so on an older PHP the plugin switches
 * itself off: it shows administrators a notice saying so and its info route reports
 * active: false, which makes entra-wp-sync refuse to sync the site.
 */

defined( 'ABSPATH' ) || exit;

if ( defined( 'ENTRA_WP_SYNC_VERSION' ) ) {
	// Loaded twice (e.g. copied into mu-plugins and plugins): keep the first copy.
	return;
}

define( 'ENTRA_WP_SYNC_VERSION', '0.1.0' );
define( 'ENTRA_WP_SYNC_REST_NAMESPACE', 'entra-wp-sync/v1' );
define( 'ENTRA_WP_SYNC_REQUIRES_PHP', '8.1' );

/*
 * Everything from here to the parts' require lines must parse and run on PHP 7.4: it is
 * what an older PHP runs before the plugin switches itself off. The parts' functions are
 * still compiled there (the shipped file has their code in place of the require lines),
 * so the parts keep to syntax PHP 7.4 parses too.
 */

/**
 * Permission for the plugin's read routes: the caller must be able to list users.
 *
 * @return true|WP_Error
 */
function entra_wp_sync_rest_can_list_users() {
	if ( current_user_can( 'list_users' ) ) {
		return true;
	}
	return new WP_Error(
		'entra_wp_sync_forbidden',
		__( 'Sorry, you are not allowed to use the entra-wp-sync API.', 'entra-wp-sync' ),
		array( 'status' => rest_authorization_required_code() )
	);
}

/**
 * Whether this PHP is too old for the plugin's parts.
 *
 * @return bool
 */
function entra_wp_sync_php_too_old() {
	return version_compare( PHP_VERSION, ENTRA_WP_SYNC_REQUIRES_PHP, '<' );
}

/**
 * Why the plugin is switched off, naming the PHP the site runs and the one it needs.
 *
 * @return string
 */
function entra_wp_sync_inactive_reason() {
	return sprintf(
		/* translators: 1: the PHP version the site runs, 2: the oldest PHP version the plugin runs on. */
		__( 'This site runs PHP %1$s; the Entra WP Sync companion plugin needs PHP %2$s or newer. Upgrade PHP to %2$s or newer.', 'entra-wp-sync' ),
		PHP_VERSION,
		ENTRA_WP_SYNC_REQUIRES_PHP
	);
}

/**
 * GET /entra-wp-sync/v1/info while switched off: the tool reads active: false and refuses
 * to sync instead of taking the site for one without the plugin.
 *
 * @return WP_REST_Response
 */
function entra_wp_sync_rest_info_inactive() {
	return rest_ensure_response(
		array(
			'version'     => ENTRA_WP_SYNC_VERSION,
			'active'      => false,
			'reason'      => entra_wp_sync_inactive_reason(),
			'php'         => PHP_VERSION,
			'requiresPhp' => ENTRA_WP_SYNC_REQUIRES_PHP,
		)
	);
}

function entra_wp_sync_register_inactive_rest_routes() {
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/info',
		array(
			'methods'             => WP_REST_Server::READABLE,
			'callback'            => 'entra_wp_sync_rest_info_inactive',
			'permission_callback' => 'entra_wp_sync_rest_can_list_users',
		)
	);
}

/**
 * Tells the people who can fix it that the plugin is off, and why.
 */
function entra_wp_sync_inactive_notice() {
	if ( ! current_user_can( 'activate_plugins' ) && ! current_user_can( 'manage_options' ) ) {
		return;
	}
	printf(
		'<div class="notice notice-error"><p><strong>%1$s</strong> %2$s %3$s</p></div>',
		esc_html__( 'Entra WP Sync companion is switched off.', 'entra-wp-sync' ),
		esc_html( entra_wp_sync_inactive_reason() ),
		esc_html__( 'Until then entra-wp-sync refuses to sync this site, and users it disabled are not kept from signing in.', 'entra-wp-sync' )
	);
}

if ( entra_wp_sync_php_too_old() ) {
	add_action( 'admin_notices', 'entra_wp_sync_inactive_notice' );
	add_action( 'network_admin_notices', 'entra_wp_sync_inactive_notice' );
	add_action( 'rest_api_init', 'entra_wp_sync_register_inactive_rest_routes' );
	// Before any part adds a hook: the parts need PHP 8.1 to run.
	return;
}

/*
 * The parts, in the order scripts/build-plugin.ts joins them into the shipped file
 * (which has their code in place of these lines). Loading this file instead runs the
 * parts straight from wordpress-plugin/src/, for trying out an edit without a build.
 */
require __DIR__ . '/features.php';
require __DIR__ . '/meta.php';
require __DIR__ . '/rest-routes.php';
require __DIR__ . '/login-block.php';
require __DIR__ . '/avatars.php';
require __DIR__ . '/state-and-lease.php';
require __DIR__ . '/batch.php';
require __DIR__ . '/fast-creation.php';
require __DIR__ . '/index-and-lookup.php';
require __DIR__ . '/identity-history.php';
require __DIR__ . '/multisite.php';
require __DIR__ . '/user-screens.php';
require __DIR__ . '/run-history.php';
require __DIR__ . '/admin-screen.php';
require __DIR__ . '/site-approvals.php';
require __DIR__ . '/notifications.php';
