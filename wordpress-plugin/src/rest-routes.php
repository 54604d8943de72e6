<?php

defined( 'ABSPATH' ) || exit;

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
			'version'          => ENTRA_WP_SYNC_VERSION,
			'features'         => entra_wp_sync_features(),
			'allowedMetaKeys'  => entra_wp_sync_allowed_meta_keys(),
			'roles'            => entra_wp_sync_role_summary(),
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
