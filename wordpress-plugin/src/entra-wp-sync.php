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

defined( 'ABSPATH' ) || exit;

if ( defined( 'ENTRA_WP_SYNC_VERSION' ) ) {
	// Loaded twice (e.g. copied into mu-plugins and plugins): keep the first copy.
	return;
}

define( 'ENTRA_WP_SYNC_VERSION', '0.1.0' );
define( 'ENTRA_WP_SYNC_REST_NAMESPACE', 'entra-wp-sync/v1' );

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
