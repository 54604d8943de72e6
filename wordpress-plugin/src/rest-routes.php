<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 3. REST namespace entra-wp-sync/v1
 * -----------------------------------------------------------------------------
 */

/*
 * The routes' permission, entra_wp_sync_rest_can_list_users(), is in the loader: the info
 * route answers with it on a PHP too old for the rest of the plugin too.
 */

/**
 * GET /entra-wp-sync/v1/info: plugin version and features.
 *
 * @return WP_REST_Response
 */
function entra_wp_sync_rest_info() {
	return rest_ensure_response(
		array(
			'version'          => ENTRA_WP_SYNC_VERSION,
			'active'           => true,
			'features'         => entra_wp_sync_features(),
			'allowedMetaKeys'  => entra_wp_sync_allowed_meta_keys(),
			'roles'            => entra_wp_sync_role_summary(),
			'network'          => entra_wp_sync_network_summary(),
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
