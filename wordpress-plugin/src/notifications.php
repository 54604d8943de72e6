<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 16. No WordPress emails about the sync's own changes
 *
 * WordPress mails a person when their email or password changes ("[Site] Email
 * Changed" goes to the old address), and a network's administrator when a new user
 * is created there. A domain rename in Entra would otherwise send one such mail per
 * person. When the sync changes an account, those mails are not sent, unless the
 * job asks for them (the tool then sends X-Entra-WP-Sync-Emails: send).
 *
 * Only the sync's own requests are quiet: REST requests carrying X-Entra-WP-Sync from
 * an account that may promote users, about someone else's account
 * (entra_wp_sync_is_sync_editing). A member changing their own email, on their
 * profile or over REST, header or not, gets WordPress's mails as always.
 * -----------------------------------------------------------------------------
 */

/** Whether the request that is running asked for WordPress's usual emails. */
function entra_wp_sync_request_wants_emails() {
	$asked = isset( $_SERVER['HTTP_X_ENTRA_WP_SYNC_EMAILS'] )
		? sanitize_key( wp_unslash( $_SERVER['HTTP_X_ENTRA_WP_SYNC_EMAILS'] ) )
		: '';
	return 'send' === $asked;
}

/** Whether a mail about this account comes from a change the sync made quietly. */
function entra_wp_sync_is_quiet_change( $user_id ) {
	return entra_wp_sync_is_sync_editing( $user_id ) && ! entra_wp_sync_request_wants_emails();
}

/**
 * Answers send_email_change_email and send_password_change_email.
 *
 * @param bool  $send Whether WordPress would send the mail.
 * @param array $user The account before the change.
 * @return bool
 */
function entra_wp_sync_filter_change_email( $send, $user ) {
	$user_id = is_array( $user ) && isset( $user['ID'] ) ? (int) $user['ID'] : 0;
	return $user_id > 0 && entra_wp_sync_is_quiet_change( $user_id ) ? false : $send;
}
add_filter( 'send_email_change_email', 'entra_wp_sync_filter_change_email', PHP_INT_MAX, 2 );
add_filter( 'send_password_change_email', 'entra_wp_sync_filter_change_email', PHP_INT_MAX, 2 );

/**
 * Core's REST create sends no new-user mail on a single site, but on a network
 * wpmu_create_user() tells the network's administrator (when "Registration
 * notification" is on), and code that creates users the admin-screen way fires the
 * hooks core hangs wp_send_new_user_notifications on. Those listeners come off for the
 * sync's creates only, and go back when the request (or batch item) ends.
 */
$GLOBALS['entra_wp_sync_quieted_listeners'] = array();

/** Core's new-user mail listeners: hook, callback, accepted arguments. */
function entra_wp_sync_new_user_mail_listeners() {
	return array(
		array( 'wpmu_new_user', 'newuser_notify_siteadmin', 1 ),
		array( 'register_new_user', 'wp_send_new_user_notifications', 1 ),
		array( 'edit_user_created_user', 'wp_send_new_user_notifications', 2 ),
	);
}

/**
 * Takes the listeners off before the rest of a sync create runs.
 *
 * @param int $user_id The new account.
 */
function entra_wp_sync_quiet_new_user( $user_id ) {
	if ( ! entra_wp_sync_is_quiet_change( $user_id ) ) {
		return;
	}
	foreach ( entra_wp_sync_new_user_mail_listeners() as $listener ) {
		if ( false !== has_action( $listener[0], $listener[1] ) ) {
			remove_action( $listener[0], $listener[1], 10 );
			$GLOBALS['entra_wp_sync_quieted_listeners'][] = $listener;
		}
	}
}
add_action( 'user_register', 'entra_wp_sync_quiet_new_user', 0, 1 );

/**
 * Puts back what entra_wp_sync_quiet_new_user() took off: the next create in a batch
 * may be someone else's.
 *
 * @param mixed $response The request's answer, passed on unchanged.
 * @return mixed
 */
function entra_wp_sync_restore_new_user_mails( $response ) {
	foreach ( $GLOBALS['entra_wp_sync_quieted_listeners'] as $listener ) {
		add_action( $listener[0], $listener[1], 10, $listener[2] );
	}
	$GLOBALS['entra_wp_sync_quieted_listeners'] = array();
	return $response;
}
add_filter( 'rest_request_after_callbacks', 'entra_wp_sync_restore_new_user_mails' );
