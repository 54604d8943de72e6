<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 10. What an account was before the sync knew it
 *
 * The sync links ("adopts") an existing account found by email or login only with
 * proof that the account is that person's: it already carries the person's Entra
 * object ID under a key a sign-in plugin writes (WPO365: aadObjectId), or it had
 * that email or login before the job began managing the site. A member can change
 * their own email over REST at once, so every change of an account's email or login
 * made by anyone but the sync is recorded, in a "_" key the REST API cannot write.
 * The record, the registration time and the object IDs other plugins stored are
 * served read-only, to callers who may edit users, as the REST field
 * entra_wp_sync_identity.
 * -----------------------------------------------------------------------------
 */

define( 'ENTRA_WP_SYNC_IDENTITY_CHANGED_KEY', '_entra_wp_sync_identity_changed_at' );
/** WordPress keeps registration to the second; "before the job began" needs better. */
define( 'ENTRA_WP_SYNC_REGISTERED_KEY', '_entra_wp_sync_registered_at' );
/** Request parameter naming the user meta keys other tools keep an Entra object ID in. */
define( 'ENTRA_WP_SYNC_ID_KEYS_PARAM', 'entra_wp_sync_id_keys' );

/**
 * Whether this request is the sync itself (it sends X-Entra-WP-Sync) changing someone
 * else's account; a member editing their own account never counts, header or not.
 */
function entra_wp_sync_is_sync_editing( $user_id ) {
	return defined( 'REST_REQUEST' ) && REST_REQUEST
		&& ! empty( $_SERVER['HTTP_X_ENTRA_WP_SYNC'] )
		&& get_current_user_id() !== (int) $user_id
		&& current_user_can( 'promote_users' );
}

function entra_wp_sync_record_identity_change( $user_id, $old_user_data ) {
	$user = get_userdata( $user_id );
	if ( ! $user || ! ( $old_user_data instanceof WP_User ) ) {
		return;
	}
	$email_changed = strtolower( (string) $old_user_data->user_email ) !== strtolower( (string) $user->user_email );
	$login_changed = strtolower( (string) $old_user_data->user_login ) !== strtolower( (string) $user->user_login );
	if ( ( $email_changed || $login_changed ) && ! entra_wp_sync_is_sync_editing( $user_id ) ) {
		update_user_meta( $user_id, ENTRA_WP_SYNC_IDENTITY_CHANGED_KEY, sprintf( '%.3F', microtime( true ) ) );
	}
}
add_action( 'profile_update', 'entra_wp_sync_record_identity_change', 10, 2 );

/** Accounts the sync creates carry its marker instead, so they cost no extra row. */
function entra_wp_sync_record_registration( $user_id ) {
	if ( ! entra_wp_sync_is_sync_editing( $user_id ) ) {
		update_user_meta( $user_id, ENTRA_WP_SYNC_REGISTERED_KEY, sprintf( '%.3F', microtime( true ) ) );
	}
}
add_action( 'user_register', 'entra_wp_sync_record_registration', 10, 1 );

/**
 * The meta keys a request names as holding other tools' Entra object IDs.
 *
 * @return string[]
 */
function entra_wp_sync_requested_id_keys( $request ) {
	$keys = $request instanceof WP_REST_Request ? $request->get_param( ENTRA_WP_SYNC_ID_KEYS_PARAM ) : null;
	if ( is_string( $keys ) ) {
		$keys = explode( ',', $keys );
	}
	if ( ! is_array( $keys ) ) {
		return array();
	}
	$valid = array_filter(
		$keys,
		fn( $key ) => is_string( $key ) && 1 === preg_match( '/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/', $key )
	);
	return array_slice( array_values( array_unique( $valid ) ), 0, 10 );
}

/** RFC 3339 in UTC with milliseconds, from a Unix time with a fraction. */
function entra_wp_sync_rfc3339( $timestamp ) {
	$seconds = (int) floor( (float) $timestamp );
	$millis  = min( 999, (int) round( ( (float) $timestamp - $seconds ) * 1000 ) );
	return gmdate( 'Y-m-d\TH:i:s', $seconds ) . sprintf( '.%03dZ', $millis );
}

/**
 * What the sync needs to decide an adoption. Only GUID-shaped values of the
 * requested keys are returned, so the route cannot be used to read other meta.
 *
 * @return array{registeredAt: string, identityChangedAt: ?string, linkedObjectIds: object}
 */
function entra_wp_sync_identity_of( WP_User $user, $id_keys ) {
	$changed    = (float) get_user_meta( $user->ID, ENTRA_WP_SYNC_IDENTITY_CHANGED_KEY, true );
	$registered = (float) get_user_meta( $user->ID, ENTRA_WP_SYNC_REGISTERED_KEY, true );
	if ( $registered <= 0 ) {
		// Only the second is known: count the account as registered at its very end.
		$registered = strtotime( $user->user_registered . ' UTC' ) + 0.999;
	}
	$linked  = array();
	foreach ( $id_keys as $key ) {
		$value = get_user_meta( $user->ID, $key, true );
		if ( is_string( $value ) && preg_match( '/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i', $value ) ) {
			$linked[ $key ] = $value;
		}
	}
	return array(
		'registeredAt'      => entra_wp_sync_rfc3339( $registered ),
		'identityChangedAt' => $changed > 0 ? entra_wp_sync_rfc3339( $changed ) : null,
		'linkedObjectIds'   => (object) $linked,
	);
}

function entra_wp_sync_rest_identity_field( $user_data, $field_name, $request ) {
	$user = get_userdata( (int) $user_data['id'] );
	if ( ! $user || ! current_user_can( 'edit_user', $user->ID ) ) {
		return null;
	}
	return entra_wp_sync_identity_of( $user, entra_wp_sync_requested_id_keys( $request ) );
}

function entra_wp_sync_register_identity_field() {
	register_rest_field(
		'user',
		'entra_wp_sync_identity',
		array(
			'get_callback' => 'entra_wp_sync_rest_identity_field',
			'schema'       => array(
				'description' => __( 'Registration, last change of email or login by anyone but the sync, and Entra object IDs other tools stored.', 'entra-wp-sync' ),
				'type'        => 'object',
				'context'     => array( 'edit' ),
				'readonly'    => true,
			),
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_identity_field' );
