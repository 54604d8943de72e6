<?php
/**
 * Plugin Name:       Entra WP Sync companion
 * Description:       Companion must-use plugin for entra-wp-sync: registers the tool's user meta for REST and serves the entra-wp-sync/v1 REST namespace.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            entra-wp-sync
 * License:           MIT
 *
 * Install by copying this one file into wp-content/mu-plugins/.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

if ( defined( 'ENTRA_WP_SYNC_VERSION' ) ) {
	// Loaded twice (e.g. copied into mu-plugins and plugins): keep the first copy.
	return;
}

define( 'ENTRA_WP_SYNC_VERSION', '0.1.0' );
define( 'ENTRA_WP_SYNC_REST_NAMESPACE', 'entra-wp-sync/v1' );

/*
 * -----------------------------------------------------------------------------
 * 1. Features
 *
 * The tool reads this list from GET /entra-wp-sync/v1/info to decide what it can
 * use; add a feature name here when its section below lands.
 * -----------------------------------------------------------------------------
 */

/**
 * Feature names this copy of the plugin offers.
 *
 * @return string[]
 */
function entra_wp_sync_features() {
	return array(
		'user-meta',
	);
}

/*
 * -----------------------------------------------------------------------------
 * 2. User meta registered for REST
 *
 * Readable and writable through /wp/v2/users only by users who may edit that user
 * (edit_users / edit_user). Keys must match src/wordpress/meta-keys.ts.
 * -----------------------------------------------------------------------------
 */

/**
 * Meta definitions: key => register_meta() arguments specific to that key.
 *
 * @return array<string, array<string, mixed>>
 */
function entra_wp_sync_user_meta_definitions() {
	$string_array = array(
		'schema' => array(
			'type'  => 'array',
			'items' => array( 'type' => 'string' ),
		),
	);

	return array(
		// Entra object id (GUID) of the person this account belongs to.
		'entra_wp_sync_object_id'     => array(
			'type'         => 'string',
			'description'  => 'Microsoft Entra object id of the synced user.',
			'default'      => '',
			'show_in_rest' => true,
		),
		// Names of the sync jobs that manage this account.
		'entra_wp_sync_jobs'          => array(
			'type'         => 'array',
			'description'  => 'Sync jobs managing this user.',
			'default'      => array(),
			'show_in_rest' => $string_array,
		),
		// 'active' or 'disabled' (disabled accounts are blocked from signing in).
		'entra_wp_sync_status'        => array(
			'type'         => 'string',
			'description'  => 'Sync status of the user: active or disabled.',
			// No 'default': register_meta() refuses a default outside the enum ('' when unset).
			'show_in_rest' => array(
				'schema' => array(
					'type' => 'string',
					'enum' => array( 'active', 'disabled' ),
				),
			),
		),
		// Roles to give back when a disabled account is enabled again.
		'entra_wp_sync_restore_roles' => array(
			'type'         => 'array',
			'description'  => 'Roles to restore when the user is enabled again.',
			'default'      => array(),
			'show_in_rest' => $string_array,
		),
	);
}

/**
 * Only someone who may edit the user may read or write the tool's meta.
 *
 * @param bool   $allowed   Whether the user can edit the meta key (ignored).
 * @param string $meta_key  The meta key.
 * @param int    $object_id The user the meta belongs to.
 * @return bool
 */
function entra_wp_sync_can_edit_user_meta( $allowed, $meta_key, $object_id ) {
	if ( ! current_user_can( 'edit_users' ) ) {
		return false;
	}
	return $object_id ? current_user_can( 'edit_user', (int) $object_id ) : true;
}

function entra_wp_sync_register_user_meta() {
	foreach ( entra_wp_sync_user_meta_definitions() as $key => $args ) {
		register_meta(
			'user',
			$key,
			array_merge(
				array(
					'single'        => true,
					'auth_callback' => 'entra_wp_sync_can_edit_user_meta',
				),
				$args
			)
		);
	}
}
add_action( 'init', 'entra_wp_sync_register_user_meta' );

/*
 * -----------------------------------------------------------------------------
 * 3. REST namespace entra-wp-sync/v1
 * -----------------------------------------------------------------------------
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
		__( 'Sorry, you are not allowed to use the entra-wp-sync API.' ),
		array( 'status' => rest_authorization_required_code() )
	);
}

/**
 * GET /entra-wp-sync/v1/info: plugin version and features.
 *
 * @return WP_REST_Response
 */
function entra_wp_sync_rest_info() {
	return rest_ensure_response(
		array(
			'version'  => ENTRA_WP_SYNC_VERSION,
			'features' => entra_wp_sync_features(),
		)
	);
}

function entra_wp_sync_register_rest_routes() {
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/info',
		array(
			'methods'             => WP_REST_Server::READABLE,
			'callback'            => 'entra_wp_sync_rest_info',
			'permission_callback' => 'entra_wp_sync_rest_can_list_users',
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_rest_routes' );

/*
 * -----------------------------------------------------------------------------
 * Later sections (planned): compact user index, lookup by object ids, batch
 * opt-in for users routes, state store and run lock, login blocking for
 * disabled users, avatars.
 * -----------------------------------------------------------------------------
 */
