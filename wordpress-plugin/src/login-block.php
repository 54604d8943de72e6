<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 4. Disabled users are kept out
 *
 * The tool disables a user by setting entra_wp_sync_status to 'disabled' (and
 * removing their roles). Every way in is closed: password login by username or
 * email, application passwords, existing session cookies (destroyed at once and
 * refused afterwards) and password reset. Credentials are revoked rather than only
 * refused, so that none comes back when the user is enabled again: sessions,
 * application passwords and a pending password reset key are deleted.
 * -----------------------------------------------------------------------------
 */

function entra_wp_sync_is_disabled( $user_id ) {
	if ( is_multisite() ) {
		// Per site on a network: kept out only when no active membership is left (section 11).
		return $user_id && entra_wp_sync_is_disabled_in_network( (int) $user_id );
	}
	return $user_id && 'disabled' === get_user_meta( (int) $user_id, 'entra_wp_sync_status', true );
}

function entra_wp_sync_disabled_error() {
	return new WP_Error(
		'entra_wp_sync_disabled',
		__( 'This account has been disabled because it is no longer active in the organisation directory.' )
	);
}

/** Password login, by username or by email (both end in the authenticate filter). */
function entra_wp_sync_block_authenticate( $user ) {
	if ( $user instanceof WP_User && entra_wp_sync_is_disabled( $user->ID ) ) {
		return entra_wp_sync_disabled_error();
	}
	return $user;
}
add_filter( 'authenticate', 'entra_wp_sync_block_authenticate', 100 );

/** Application passwords over REST and XML-RPC. */
function entra_wp_sync_block_application_password( $error, $user ) {
	if ( $user instanceof WP_User && entra_wp_sync_is_disabled( $user->ID ) ) {
		$error->add( 'entra_wp_sync_disabled', entra_wp_sync_disabled_error()->get_error_message() );
	}
}
add_action( 'wp_authenticate_application_password_errors', 'entra_wp_sync_block_application_password', 10, 2 );

/** Cookies of sessions that started before the user was disabled. */
function entra_wp_sync_block_current_user( $user_id ) {
	if ( $user_id && entra_wp_sync_is_disabled( $user_id ) ) {
		return 0;
	}
	return $user_id;
}
add_filter( 'determine_current_user', 'entra_wp_sync_block_current_user', 100 );

/** No new password reset key is issued (core asks this filter only when issuing one). */
function entra_wp_sync_block_password_reset( $allowed, $user_id ) {
	return entra_wp_sync_is_disabled( $user_id ) ? false : $allowed;
}
add_filter( 'allow_password_reset', 'entra_wp_sync_block_password_reset', 100, 2 );

/**
 * A key that still matches (issued before the disable and somehow kept) sets no
 * password on wp-login.php: the reset form shows the reason instead.
 *
 * @param WP_Error         $errors Errors of the reset form.
 * @param WP_User|WP_Error $user   The user the key belongs to, if it matched.
 */
function entra_wp_sync_refuse_reset_form( $errors, $user ) {
	if ( $user instanceof WP_User && entra_wp_sync_is_disabled( $user->ID ) ) {
		$errors->add( 'entra_wp_sync_disabled', esc_html( entra_wp_sync_disabled_error()->get_error_message() ) );
	}
}
add_action( 'validate_password_reset', 'entra_wp_sync_refuse_reset_form', 10, 2 );

/**
 * Any other reset flow (a theme's or a shop's form) ends in reset_password(), which
 * cannot be told no: stopping the request is what keeps the password unchanged.
 *
 * @param WP_User $user The user whose password is about to be reset.
 */
function entra_wp_sync_refuse_reset_password( $user ) {
	if ( $user instanceof WP_User && entra_wp_sync_is_disabled( $user->ID ) ) {
		wp_die( esc_html( entra_wp_sync_disabled_error()->get_error_message() ), '', array( 'response' => 403 ) );
	}
}
add_action( 'password_reset', 'entra_wp_sync_refuse_reset_password', 1 );

/**
 * Forgets the user's pending reset key, which check_password_reset_key() would
 * otherwise accept until it expires. Written directly: wp_update_user() would run
 * the whole profile update and its hooks for one column.
 */
function entra_wp_sync_clear_reset_key( $user_id ) {
	global $wpdb;
	$wpdb->update( $wpdb->users, array( 'user_activation_key' => '' ), array( 'ID' => (int) $user_id ) );
	clean_user_cache( (int) $user_id );
}

/** The moment a user is disabled, their sessions, application passwords and reset key are gone. */
function entra_wp_sync_revoke_on_disable( $meta_id, $user_id, $meta_key, $meta_value ) {
	// On a network the status is written under this site's key (section 11).
	$status_key = is_multisite() ? entra_wp_sync_site_meta_key( 'entra_wp_sync_status' ) : 'entra_wp_sync_status';
	if ( $status_key !== $meta_key || 'disabled' !== $meta_value || ! entra_wp_sync_is_disabled( $user_id ) ) {
		return;
	}
	WP_Session_Tokens::get_instance( (int) $user_id )->destroy_all();
	WP_Application_Passwords::delete_all_application_passwords( (int) $user_id );
	entra_wp_sync_clear_reset_key( $user_id );
}
add_action( 'added_user_meta', 'entra_wp_sync_revoke_on_disable', 10, 4 );
add_action( 'updated_user_meta', 'entra_wp_sync_revoke_on_disable', 10, 4 );
