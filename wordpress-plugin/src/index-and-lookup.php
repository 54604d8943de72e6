<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 9. Compact user index and lookup
 *
 * /wp/v2/users builds a full response per user (links, avatar URLs, schema
 * filtering) and serves at most 100 per page: a 10,000-user index costs 100
 * requests. These routes return the same fields with the same values as
 * context=edit, up to 2,000 per page, and find users by object id, email or
 * login so a delta run never reads the whole index.
 * -----------------------------------------------------------------------------
 */

define( 'ENTRA_WP_SYNC_INDEX_MAX_PER_PAGE', 2000 );
define( 'ENTRA_WP_SYNC_LOOKUP_MAX_KEYS', 2000 );

/**
 * A user as GET /wp/v2/users/{id}?context=edit shows the fields the tool reads.
 */
function entra_wp_sync_compact_user( WP_User $user, WP_REST_User_Meta_Fields $meta_fields, WP_REST_Request $request, $id_keys ) {
	$compact = array(
		'id'          => $user->ID,
		'username'    => $user->user_login,
		'email'       => $user->user_email,
		'roles'       => array_values( $user->roles ),
		'first_name'  => $user->first_name,
		'last_name'   => $user->last_name,
		'name'        => $user->display_name,
		'nickname'    => $user->nickname,
		'description' => $user->description,
		'url'         => $user->user_url,
		'locale'      => get_user_locale( $user ),
		// Core's own meta serialisation, so values compare equal to /wp/v2/users.
		'meta'        => (object) $meta_fields->get_value( $user->ID, $request ),
		// As the REST field of the same name shows it on /wp/v2/users (section 10).
		'entra_wp_sync_identity' => entra_wp_sync_identity_of( $user, $id_keys ),
	);
	if ( is_multisite() ) {
		// Lookups find network users who are not members of this site yet (section 11).
		$compact['member']     = is_user_member_of_blog( $user->ID );
		$compact['superAdmin'] = is_super_admin( $user->ID );
	}
	return $compact;
}

/**
 * @param array    $args    WP_User_Query arguments over the defaults below.
 * @param string[] $id_keys Meta keys other tools keep Entra object IDs in (section 10).
 * @return array{0: array<int, array<string, mixed>>, 1: int}
 */
function entra_wp_sync_query_users( $args, $id_keys = array() ) {
	$query = new WP_User_Query(
		array_merge(
			array(
				'orderby'     => 'ID',
				'order'       => 'ASC',
				'fields'      => 'all_with_meta',
				'count_total' => true,
			),
			$args
		)
	);
	$meta_fields = new WP_REST_User_Meta_Fields();
	$request     = new WP_REST_Request( 'GET' );
	$request->set_param( 'context', 'edit' );
	$users = array();
	foreach ( $query->get_results() as $user ) {
		$users[] = entra_wp_sync_compact_user( $user, $meta_fields, $request, $id_keys );
	}
	return array( $users, (int) $query->get_total() );
}

/**
 * GET /entra-wp-sync/v1/users?page=&per_page=: every user, ordered by id, with
 * X-WP-Total and X-WP-TotalPages as core sends them.
 */
function entra_wp_sync_rest_user_index( WP_REST_Request $request ) {
	$per_page = (int) $request->get_param( 'per_page' );
	$page     = (int) $request->get_param( 'page' );
	list( $users, $total ) = entra_wp_sync_query_users(
		array(
			'number' => $per_page,
			'paged'  => $page,
		),
		entra_wp_sync_requested_id_keys( $request )
	);
	$response = rest_ensure_response( $users );
	$response->header( 'X-WP-Total', (string) $total );
	$response->header( 'X-WP-TotalPages', (string) max( 1, (int) ceil( $total / $per_page ) ) );
	return $response;
}

/**
 * @param string[] $values
 */
function entra_wp_sync_in_list( $values ) {
	global $wpdb;
	return implode( ',', array_map( fn( $value ) => $wpdb->prepare( '%s', $value ), $values ) );
}

/**
 * POST /entra-wp-sync/v1/users/lookup: the users matching any of the given
 * object ids, emails, logins or short logins (the login, or its part before
 * "@"), and how many users the given job manages (the base of safety.maxDeletes).
 */
function entra_wp_sync_rest_user_lookup( WP_REST_Request $request ) {
	global $wpdb;
	$object_ids   = $request->get_param( 'objectIds' );
	$emails       = $request->get_param( 'emails' );
	$logins       = $request->get_param( 'logins' );
	$short_logins = $request->get_param( 'shortLogins' );
	$job          = $request->get_param( 'job' );
	$id_keys      = entra_wp_sync_requested_id_keys( $request );

	// Email and login columns use a case-insensitive collation, as matching wants.
	$ids = array();
	if ( $object_ids ) {
		$ids = array_merge(
			$ids,
			$wpdb->get_col(
				// LEFT() keeps MariaDB off the longtext comparison path: twice as fast on 100,000 users.
				// Other tools' keys too: an account WPO365 linked is found by its object ID.
				"SELECT user_id FROM {$wpdb->usermeta} WHERE meta_key IN (" . entra_wp_sync_in_list( array_merge( array( 'entra_wp_sync_object_id' ), $id_keys ) )
				. ') AND LEFT(meta_value, 64) IN (' . entra_wp_sync_in_list( $object_ids ) . ')'
			)
		);
	}
	if ( $emails ) {
		$ids = array_merge( $ids, $wpdb->get_col( "SELECT ID FROM {$wpdb->users} WHERE user_email IN (" . entra_wp_sync_in_list( $emails ) . ')' ) );
	}
	if ( $logins ) {
		$ids = array_merge( $ids, $wpdb->get_col( "SELECT ID FROM {$wpdb->users} WHERE user_login IN (" . entra_wp_sync_in_list( $logins ) . ')' ) );
	}
	if ( $short_logins ) {
		$conditions = array( 'user_login IN (' . entra_wp_sync_in_list( $short_logins ) . ')' );
		foreach ( $short_logins as $short ) {
			$conditions[] = $wpdb->prepare( 'user_login LIKE %s', $wpdb->esc_like( $short ) . '@%' );
		}
		$ids = array_merge( $ids, $wpdb->get_col( "SELECT ID FROM {$wpdb->users} WHERE " . implode( ' OR ', $conditions ) ) );
	}

	$users = array();
	$ids   = array_values( array_unique( array_map( 'intval', $ids ) ) );
	if ( $ids ) {
		list( $users ) = entra_wp_sync_query_users(
			array(
				'include'     => $ids,
				'number'      => -1,
				'count_total' => false,
				// On a network, every network user with these keys, members of this site or not.
				'blog_id'     => 0,
			),
			$id_keys
		);
	}

	$result = array( 'users' => $users );
	if ( is_string( $job ) && '' !== $job ) {
		// The jobs meta is a serialized array of job names.
		$result['managed'] = (int) $wpdb->get_var(
			$wpdb->prepare(
				"SELECT COUNT(*) FROM {$wpdb->usermeta} WHERE meta_key = %s AND meta_value LIKE %s",
				// Kept per site on a network (section 11).
				is_multisite() ? entra_wp_sync_site_meta_key( 'entra_wp_sync_jobs' ) : 'entra_wp_sync_jobs',
				'%' . $wpdb->esc_like( serialize( $job ) ) . '%'
			)
		);
	}
	return rest_ensure_response( $result );
}

function entra_wp_sync_register_user_routes() {
	$key_list = array(
		'type'     => 'array',
		'items'    => array(
			'type'      => 'string',
			'minLength' => 1,
			'maxLength' => 254,
		),
		'maxItems' => ENTRA_WP_SYNC_LOOKUP_MAX_KEYS,
		'default'  => array(),
	);
	$id_keys = array(
		'description' => __( 'User meta keys other tools keep Entra object IDs in.', 'entra-wp-sync' ),
		'type'        => 'array',
		'items'       => array(
			'type'    => 'string',
			'pattern' => '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
		),
		'maxItems'    => 10,
		'default'     => array(),
	);
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/users',
		array(
			'methods'             => WP_REST_Server::READABLE,
			'callback'            => 'entra_wp_sync_rest_user_index',
			'permission_callback' => 'entra_wp_sync_rest_can_manage_users',
			'args'                => array(
				'page'     => array(
					'type'    => 'integer',
					'minimum' => 1,
					'default' => 1,
				),
				'per_page' => array(
					'type'    => 'integer',
					'minimum' => 1,
					'maximum' => ENTRA_WP_SYNC_INDEX_MAX_PER_PAGE,
					'default' => 1000,
				),
				ENTRA_WP_SYNC_ID_KEYS_PARAM => $id_keys,
			),
		)
	);
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/users/lookup',
		array(
			'methods'             => WP_REST_Server::CREATABLE,
			'callback'            => 'entra_wp_sync_rest_user_lookup',
			'permission_callback' => 'entra_wp_sync_rest_can_manage_users',
			'args'                => array(
				// Entra object ids are GUIDs; the lookup compares LEFT(meta_value, 64).
				'objectIds'   => array_replace_recursive( $key_list, array( 'items' => array( 'maxLength' => 64 ) ) ),
				'emails'      => $key_list,
				'logins'      => $key_list,
				'shortLogins' => $key_list,
				'job'         => array(
					'type'      => 'string',
					'maxLength' => 63,
				),
				ENTRA_WP_SYNC_ID_KEYS_PARAM => $id_keys,
			),
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_user_routes' );
