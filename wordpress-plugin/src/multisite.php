<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 11. Multisite networks
 *
 * On a network a job syncs into one site, and its users are network users.
 * Core REST creates a user into the current site, but it cannot add an existing
 * network user to a site, and it refuses DELETE; these routes do both for this
 * site only (remove_user_from_blog, never wpmu_delete_user). Super admins are
 * never changed by the sync.
 *
 * The jobs, the disabled state and the remembered roles are kept per site (a blog-prefixed
 * meta key, read and written under the plain key), so that a person disabled by
 * one site's job but still active on another keeps their way in there: the
 * login block and the revocation of credentials apply only when no site where
 * the person holds a role is left, and some site's job disabled them.
 * -----------------------------------------------------------------------------
 */

/**
 * Meta keys kept per site on a network: which jobs manage the person is per site too,
 * since each site has its own jobs, and one site's job must not keep another site's
 * removal from happening. The object ID stays network-wide: it is who the person is.
 */
function entra_wp_sync_site_meta_keys() {
	return array( 'entra_wp_sync_jobs', 'entra_wp_sync_status', 'entra_wp_sync_restore_roles', 'entra_wp_sync_managed_fields' );
}

/**
 * The per-site key for a plain one, on this site.
 *
 * @param string $meta_key A key of entra_wp_sync_site_meta_keys().
 */
function entra_wp_sync_site_meta_key( $meta_key ) {
	global $wpdb;
	return $wpdb->get_blog_prefix() . $meta_key;
}

/**
 * Reads of a per-site key answer with this site's value.
 *
 * @param mixed  $value     Null to let core read.
 * @param int    $object_id User id.
 * @param string $meta_key  Key asked for.
 * @param bool   $single    One value or all.
 */
function entra_wp_sync_get_site_meta( $value, $object_id, $meta_key, $single ) {
	if ( ! in_array( $meta_key, entra_wp_sync_site_meta_keys(), true ) ) {
		return $value;
	}
	$stored = get_user_meta( $object_id, entra_wp_sync_site_meta_key( $meta_key ), $single );
	return $single ? array( $stored ) : $stored;
}

/**
 * Writes of a per-site key go to this site's key.
 *
 * @param mixed  $check      Null to let core write.
 * @param int    $object_id  User id.
 * @param string $meta_key   Key written.
 * @param mixed  $meta_value Value.
 */
function entra_wp_sync_update_site_meta( $check, $object_id, $meta_key, $meta_value ) {
	if ( ! in_array( $meta_key, entra_wp_sync_site_meta_keys(), true ) ) {
		return $check;
	}
	update_user_meta( $object_id, entra_wp_sync_site_meta_key( $meta_key ), $meta_value );
	return true;
}

/**
 * Deletes of a per-site key delete this site's key.
 *
 * @param mixed  $check     Null to let core delete.
 * @param int    $object_id User id.
 * @param string $meta_key  Key deleted.
 */
function entra_wp_sync_delete_site_meta( $check, $object_id, $meta_key ) {
	if ( ! in_array( $meta_key, entra_wp_sync_site_meta_keys(), true ) ) {
		return $check;
	}
	delete_user_meta( $object_id, entra_wp_sync_site_meta_key( $meta_key ) );
	return true;
}

if ( is_multisite() ) {
	// Before any other filter of these (fast creation's): the plain key is never written.
	add_filter( 'get_user_metadata', 'entra_wp_sync_get_site_meta', 1, 4 );
	add_filter( 'update_user_metadata', 'entra_wp_sync_update_site_meta', 1, 4 );
	add_filter( 'add_user_metadata', 'entra_wp_sync_update_site_meta', 1, 4 );
	add_filter( 'delete_user_metadata', 'entra_wp_sync_delete_site_meta', 1, 3 );
}

/**
 * On a network: disabled by some site's job, and holding a role on no site.
 *
 * @param int $user_id User id.
 */
function entra_wp_sync_is_disabled_in_network( $user_id ) {
	global $wpdb;
	$disabled = false;
	$prefix   = preg_quote( $wpdb->base_prefix, '/' );
	foreach ( get_user_meta( (int) $user_id ) as $key => $values ) {
		if ( preg_match( '/^' . $prefix . '(\d+_)?capabilities$/', $key ) ) {
			$roles = maybe_unserialize( $values[0] );
			if ( is_array( $roles ) && array_filter( $roles ) ) {
				return false;
			}
		} elseif ( preg_match( '/^' . $prefix . '(\d+_)?entra_wp_sync_status$/', $key ) && 'disabled' === $values[0] ) {
			$disabled = true;
		}
	}
	return $disabled;
}

/**
 * Refuses a super admin, whom the sync never changes.
 *
 * @param int $user_id User id.
 * @return WP_Error|null
 */
function entra_wp_sync_refuse_super_admin( $user_id ) {
	if ( ! is_super_admin( (int) $user_id ) ) {
		return null;
	}
	return new WP_Error(
		'entra_wp_sync_super_admin',
		__( 'This user is a super admin of the network; the sync never changes super admins.', 'entra-wp-sync' ),
		array( 'status' => 403 )
	);
}

/** What the info route says about the network, or null on a single site. */
function entra_wp_sync_network_summary() {
	if ( ! is_multisite() ) {
		return null;
	}
	return array(
		'blogId'      => get_current_blog_id(),
		'mainSite'    => is_main_site(),
		'superAdmin'  => is_super_admin(),
		// Logins wpmu_validate_user_signup() refuses besides the shape it wants.
		'illegalNames' => array_values( (array) get_site_option( 'illegal_names', array() ) ),
	);
}

/**
 * Adding to and removing from this site takes promote_users here (remove_users to
 * remove), besides what the users routes take.
 *
 * @param WP_REST_Request $request The request.
 * @return true|WP_Error
 */
function entra_wp_sync_rest_can_manage_members( WP_REST_Request $request ) {
	$allowed = entra_wp_sync_rest_can_manage_users();
	if ( true !== $allowed ) {
		return $allowed;
	}
	$needed = 'DELETE' === $request->get_method() ? 'remove_users' : 'promote_users';
	if ( is_multisite() && current_user_can( $needed ) ) {
		return true;
	}
	return new WP_Error(
		'rest_forbidden',
		is_multisite()
			? __( 'Sorry, you are not allowed to change who is a member of this site.', 'entra-wp-sync' )
			: __( 'This site is not part of a network.', 'entra-wp-sync' ),
		array( 'status' => is_multisite() ? 403 : 400 )
	);
}

/**
 * The network user with this id, if there is one and the sync may change them.
 *
 * @param int $user_id User id.
 * @return WP_User|WP_Error
 */
function entra_wp_sync_member_target( $user_id ) {
	$user = get_userdata( (int) $user_id );
	if ( ! $user ) {
		return new WP_Error( 'rest_user_invalid_id', __( 'Invalid user ID.' ), array( 'status' => 404 ) );
	}
	$refused = entra_wp_sync_refuse_super_admin( $user->ID );
	return $refused ? $refused : $user;
}

/**
 * POST /entra-wp-sync/v1/members {id, role}: adds a network user to this site with
 * one role (the normal users route then sets the rest). A member already stays as is.
 *
 * @param WP_REST_Request $request The request.
 */
function entra_wp_sync_rest_add_member( WP_REST_Request $request ) {
	$user = entra_wp_sync_member_target( $request->get_param( 'id' ) );
	if ( is_wp_error( $user ) ) {
		return $user;
	}
	$role = (string) $request->get_param( 'role' );
	// get_editable_roles() lives in wp-admin, as core's users route loads it too.
	require_once ABSPATH . 'wp-admin/includes/user.php';
	if ( ! isset( get_editable_roles()[ $role ] ) ) {
		return new WP_Error(
			'rest_user_invalid_role',
			/* translators: %s: role slug */
			sprintf( __( 'The role %s cannot be given on this site.', 'entra-wp-sync' ), $role ),
			array( 'status' => 400 )
		);
	}
	if ( ! is_user_member_of_blog( $user->ID ) ) {
		$added = add_user_to_blog( get_current_blog_id(), $user->ID, $role );
		if ( is_wp_error( $added ) ) {
			return $added;
		}
	}
	return rest_ensure_response( array( 'id' => $user->ID ) );
}

/**
 * DELETE /entra-wp-sync/v1/members/{id}?reassign=: removes the user from this site
 * only, their content here going to `reassign`. The network account stays. Not a
 * member (already removed) counts as done.
 *
 * @param WP_REST_Request $request The request.
 */
function entra_wp_sync_rest_remove_member( WP_REST_Request $request ) {
	$user = entra_wp_sync_member_target( $request->get_param( 'id' ) );
	if ( is_wp_error( $user ) ) {
		return $user;
	}
	$reassign = (int) $request->get_param( 'reassign' );
	if ( $reassign === $user->ID || ! is_user_member_of_blog( $reassign ) ) {
		return new WP_Error(
			'rest_user_invalid_reassign',
			__( 'Content must go to another member of this site.', 'entra-wp-sync' ),
			array( 'status' => 400 )
		);
	}
	if ( is_user_member_of_blog( $user->ID ) ) {
		$removed = remove_user_from_blog( $user->ID, get_current_blog_id(), $reassign );
		if ( is_wp_error( $removed ) ) {
			return $removed;
		}
	}
	return rest_ensure_response(
		array(
			'id'      => $user->ID,
			'removed' => true,
		)
	);
}

function entra_wp_sync_register_member_routes() {
	$id = array(
		'type'     => 'integer',
		'minimum'  => 1,
		'required' => true,
	);
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/members',
		array(
			'methods'             => WP_REST_Server::CREATABLE,
			'callback'            => 'entra_wp_sync_rest_add_member',
			'permission_callback' => 'entra_wp_sync_rest_can_manage_members',
			'args'                => array(
				'id'   => $id,
				'role' => array(
					'type'     => 'string',
					'required' => true,
				),
			),
		)
	);
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/members/(?P<id>\d+)',
		array(
			'methods'             => WP_REST_Server::DELETABLE,
			'callback'            => 'entra_wp_sync_rest_remove_member',
			'permission_callback' => 'entra_wp_sync_rest_can_manage_members',
			'args'                => array(
				'id'       => $id,
				'reassign' => $id,
			),
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_member_routes' );

/**
 * The sync writes its markers with every change; a write of them to a super admin
 * over the users route is the sync's, and is refused.
 *
 * @param mixed           $result  Null to go on.
 * @param WP_REST_Server  $server  The server.
 * @param WP_REST_Request $request The request.
 */
function entra_wp_sync_refuse_super_admin_writes( $result, $server, $request ) {
	if ( null !== $result || ! is_multisite() || 'GET' === $request->get_method() ) {
		return $result;
	}
	if ( ! preg_match( '#^/wp/v2/users/(\d+)$#', $request->get_route(), $found ) ) {
		return $result;
	}
	$meta = $request->get_param( 'meta' );
	if ( is_array( $meta ) && array_intersect( array_keys( $meta ), array( 'entra_wp_sync_object_id', 'entra_wp_sync_jobs', 'entra_wp_sync_status' ) ) ) {
		$refused = entra_wp_sync_refuse_super_admin( (int) $found[1] );
		if ( $refused ) {
			return $refused;
		}
	}
	return $result;
}
add_filter( 'rest_pre_dispatch', 'entra_wp_sync_refuse_super_admin_writes', 10, 3 );
