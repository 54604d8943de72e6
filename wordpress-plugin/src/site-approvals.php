<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 15. Approving held lists from the site
 *
 * A run that holds removals (over the job's safety.maxDeletes) or adoptions (existing
 * accounts without proof) records its held list in the run history. Under Users →
 * Entra ID sync each job shows that list with each person, and an administrator who
 * may delete users (removals) or promote users (adoptions) approves exactly it: the
 * approval names the held run and its users, never "whatever the next run finds".
 * The next run reads it (GET approvals), applies those users only if its own held list
 * is still that run's with the same users, and removes it once the list is gone
 * (DELETE approvals), so it approves one list once.
 *
 * Approvals are one option, job → approval, not autoloaded.
 * -----------------------------------------------------------------------------
 */

define( 'ENTRA_WP_SYNC_SITE_APPROVALS_OPTION', 'entra_wp_sync_site_approvals' );

/** Where the approve forms send the administrator back to. */
function entra_wp_sync_approvals_screen_url( $args = array() ) {
	return add_query_arg( array_merge( array( 'page' => 'entra-wp-sync' ), $args ), admin_url( 'users.php' ) );
}

function entra_wp_sync_is_job_name( $job ) {
	return is_string( $job ) && 1 === preg_match( '/^[a-z0-9][a-z0-9_-]{0,62}$/', $job );
}

/**
 * What each list needs: removals disable or delete accounts, adoptions hand accounts a
 * person's roles.
 */
function entra_wp_sync_approval_capability( $what ) {
	return 'removals' === $what ? 'delete_users' : 'promote_users';
}

function entra_wp_sync_current_user_can_approve( $what ) {
	return current_user_can( 'list_users' ) && current_user_can( 'edit_users' ) && current_user_can( entra_wp_sync_approval_capability( $what ) );
}

/**
 * The held list a person may approve for a job: the last run's, or, while the cycle
 * that followed it goes on without holding anything, the one before. A complete cycle
 * that held nothing used it up. Previews and failed runs leave the job's state as it was
 * and are passed over.
 *
 * @return array<string, mixed>|null The record's held list (runId, removals, adoptions and their totals).
 */
function entra_wp_sync_held_list( $job ) {
	$history = function_exists( 'entra_wp_sync_run_history' ) ? entra_wp_sync_run_history() : array();
	$records = isset( $history[ $job ] ) && is_array( $history[ $job ] ) ? $history[ $job ] : array();
	foreach ( $records as $record ) {
		if ( ! is_array( $record ) || ! empty( $record['dryRun'] ) || 'failed' === ( $record['outcome'] ?? null ) ) {
			continue;
		}
		if ( is_array( $record['held'] ?? null ) && is_string( $record['held']['runId'] ?? null ) ) {
			return $record['held'];
		}
		$cycle = $record['cycle'] ?? null;
		if ( ! is_array( $cycle ) || ! empty( $cycle['complete'] ) ) {
			return null;
		}
	}
	return null;
}

/** @return array<string, array<string, mixed>> job → approval */
function entra_wp_sync_site_approvals() {
	$approvals = get_option( ENTRA_WP_SYNC_SITE_APPROVALS_OPTION, array() );
	return is_array( $approvals ) ? $approvals : array();
}

/** @return array<string, mixed>|null */
function entra_wp_sync_site_approval( $job ) {
	$approvals = entra_wp_sync_site_approvals();
	return isset( $approvals[ $job ] ) && is_array( $approvals[ $job ] ) ? $approvals[ $job ] : null;
}

/**
 * The held list's users as an approval names them: removals by WordPress id, adoptions
 * as the pair (Entra object id, WordPress id) that was listed.
 *
 * @return array<int, int|array{objectId: string, wordpressId: int}>
 */
function entra_wp_sync_held_keys( $held, $what ) {
	$keys = array();
	foreach ( $held[ $what ] ?? array() as $entry ) {
		$keys[] = 'removals' === $what
			? (int) $entry['id']
			: array(
				'objectId'    => strtolower( (string) $entry['objectId'] ),
				'wordpressId' => (int) $entry['wordpressId'],
			);
	}
	return $keys;
}

function entra_wp_sync_held_key_text( $key ) {
	return is_array( $key ) ? $key['objectId'] . ':' . $key['wordpressId'] : (string) $key;
}

/** Whether the record holds the whole list: a record too big for the history keeps only its start. */
function entra_wp_sync_held_list_whole( $held, $what ) {
	return count( $held[ $what ] ?? array() ) >= (int) ( $held[ $what . 'Total' ] ?? 0 );
}

/** Whether the stored approval approves this held list's $what. */
function entra_wp_sync_held_list_approved( $approval, $held, $what ) {
	return is_array( $approval ) && ( $approval['heldRunId'] ?? null ) === $held['runId'] && ! empty( $approval[ $what ] );
}

/*
 * The screen: one section per job, after the last run's errors.
 */

/**
 * Lists the job's held removals and adoptions, each person with a link to their profile,
 * and the approve forms for whoever may approve them. The held list is not always the
 * last run's (a run in the middle of a cycle holds nothing new), so it is looked up.
 *
 * @param string $job The job's name.
 */
function entra_wp_sync_render_held_lists( $job ) {
	if ( ! entra_wp_sync_is_job_name( $job ) || ! current_user_can( 'list_users' ) ) {
		return;
	}
	$held = entra_wp_sync_held_list( $job );
	if ( null === $held || ( empty( $held['removals'] ) && empty( $held['adoptions'] ) ) ) {
		return;
	}
	printf( '<div class="entra-wp-sync-held-lists" id="%s">', esc_attr( 'entra-wp-sync-held-' . $job ) );
	if ( ! empty( $held['removals'] ) ) {
		entra_wp_sync_render_held_removals( $job, $held );
	}
	if ( ! empty( $held['adoptions'] ) ) {
		entra_wp_sync_render_held_adoptions( $job, $held );
	}
	echo '</div>';
}
add_action( 'entra_wp_sync_admin_job_sections', 'entra_wp_sync_render_held_lists', 20, 1 );

/** A WordPress account as the lists show it: its login linked to its profile, and its id. */
function entra_wp_sync_account_cell( $wordpress_id, $login ) {
	$link = get_edit_user_link( $wordpress_id );
	$text = sprintf(
		/* translators: 1: a WordPress login, 2: the account's WordPress user id. */
		__( '%1$s (#%2$d)', 'entra-wp-sync' ),
		'' === $login ? __( '(no login)', 'entra-wp-sync' ) : $login,
		$wordpress_id
	);
	return '' === $link ? esc_html( $text ) : sprintf( '<a href="%s">%s</a>', esc_url( $link ), esc_html( $text ) );
}

/** The person's UPN as the run saw it, else the account's email today. */
function entra_wp_sync_upn_or_email( $entry, $wordpress_id ) {
	if ( is_string( $entry['upn'] ?? null ) && '' !== $entry['upn'] ) {
		return $entry['upn'];
	}
	$user = get_userdata( $wordpress_id );
	return $user ? $user->user_email : '';
}

function entra_wp_sync_render_held_removals( $job, $held ) {
	$count = (int) max( count( $held['removals'] ), (int) ( $held['removalsTotal'] ?? 0 ) );
	printf(
		'<h3>%s</h3>',
		esc_html(
			sprintf(
				/* translators: 1: how many removals are held, 2: the id of the run that held them. */
				_n( '%1$d removal held by run %2$s', '%1$d removals held by run %2$s', $count, 'entra-wp-sync' ),
				$count,
				$held['runId']
			)
		)
	);
	printf(
		'<table class="widefat striped" id="%s"><thead><tr><th scope="col">%s</th><th scope="col">%s</th></tr></thead><tbody>',
		esc_attr( 'entra-wp-sync-held-removals-' . $job ),
		esc_html__( 'WordPress account', 'entra-wp-sync' ),
		esc_html__( 'UPN or email', 'entra-wp-sync' )
	);
	foreach ( $held['removals'] as $user ) {
		$id = (int) $user['id'];
		printf(
			'<tr data-user-id="%d"><td>%s</td><td>%s</td></tr>',
			(int) $id,
			entra_wp_sync_account_cell( $id, (string) ( $user['login'] ?? '' ) ),
			esc_html( entra_wp_sync_upn_or_email( $user, $id ) )
		);
	}
	echo '</tbody></table>';
	entra_wp_sync_render_approval_state( $job, $held, 'removals' );
}

function entra_wp_sync_render_held_adoptions( $job, $held ) {
	$count = (int) max( count( $held['adoptions'] ), (int) ( $held['adoptionsTotal'] ?? 0 ) );
	printf(
		'<h3>%s</h3>',
		esc_html(
			sprintf(
				/* translators: 1: how many adoptions are held, 2: the id of the run that held them. */
				_n( '%1$d adoption held by run %2$s', '%1$d adoptions held by run %2$s', $count, 'entra-wp-sync' ),
				$count,
				$held['runId']
			)
		)
	);
	printf(
		'<table class="widefat striped" id="%s"><thead><tr><th scope="col">%s</th><th scope="col">%s</th><th scope="col">%s</th></tr></thead><tbody>',
		esc_attr( 'entra-wp-sync-held-adoptions-' . $job ),
		esc_html__( 'Existing WordPress account', 'entra-wp-sync' ),
		esc_html__( 'Entra user (UPN or email)', 'entra-wp-sync' ),
		esc_html__( 'Entra object id', 'entra-wp-sync' )
	);
	foreach ( $held['adoptions'] as $pair ) {
		$id = (int) $pair['wordpressId'];
		printf(
			'<tr data-user-id="%d"><td>%s</td><td>%s</td><td><code>%s</code></td></tr>',
			(int) $id,
			entra_wp_sync_account_cell( $id, (string) ( $pair['login'] ?? '' ) ),
			esc_html( entra_wp_sync_upn_or_email( $pair, $id ) ),
			esc_html( (string) $pair['objectId'] )
		);
	}
	echo '</tbody></table>';
	entra_wp_sync_render_approval_state( $job, $held, 'adoptions' );
}

/**
 * Below a list: who approved it, or the form that approves it, or why this person
 * cannot.
 */
function entra_wp_sync_render_approval_state( $job, $held, $what ) {
	$approval = entra_wp_sync_site_approval( $job );
	if ( entra_wp_sync_held_list_approved( $approval, $held, $what ) ) {
		printf(
			'<p class="entra-wp-sync-approved" id="%s">%s</p>',
			esc_attr( 'entra-wp-sync-approved-' . $what . '-' . $job ),
			esc_html(
				sprintf(
					/* translators: 1: the WordPress login of who approved, 2: when (UTC). */
					'removals' === $what
						? __( 'Approved by %1$s on %2$s. The next run removes exactly these users; if it would remove others too, it removes no one and holds the new list.', 'entra-wp-sync' )
						: __( 'Approved by %1$s on %2$s. The next run links exactly these accounts; an account matched differently is held again.', 'entra-wp-sync' ),
					(string) ( $approval[ $what . 'By' ] ?? $approval['by'] ?? '' ),
					(string) ( $approval['at'] ?? '' )
				)
			)
		);
		if ( entra_wp_sync_current_user_can_approve( $what ) ) {
			entra_wp_sync_render_list_form(
				$job,
				$held,
				$what,
				'withdraw',
				__( 'Withdraw the approval', 'entra-wp-sync' )
			);
		}
		return;
	}
	if ( ! entra_wp_sync_held_list_whole( $held, $what ) ) {
		$total = (int) $held[ $what . 'Total' ];
		printf(
			'<p>%s</p>',
			esc_html(
				'removals' === $what
					/* translators: %d: how many removals are held. */
					? sprintf( __( 'This list is too long to show whole here, so it cannot be approved on the site: approve it where the run came from, with --allow-deletes %d (the Action input allow-deletes).', 'entra-wp-sync' ), $total )
					/* translators: %d: how many adoptions are held. */
					: sprintf( __( 'This list is too long to show whole here, so it cannot be approved on the site: approve it where the run came from, with --allow-adoptions %d (the Action input allow-adoptions).', 'entra-wp-sync' ), $total )
			)
		);
		return;
	}
	if ( ! entra_wp_sync_current_user_can_approve( $what ) ) {
		printf(
			'<p>%s</p>',
			'removals' === $what
				? esc_html__( 'An administrator who may delete users can approve these removals.', 'entra-wp-sync' )
				: esc_html__( 'An administrator who may promote users can approve these adoptions.', 'entra-wp-sync' )
		);
		return;
	}
	entra_wp_sync_render_list_form(
		$job,
		$held,
		$what,
		'approve',
		'removals' === $what
			? __( 'Approve exactly these removals', 'entra-wp-sync' )
			: __( 'Approve exactly these adoptions', 'entra-wp-sync' )
	);
}

/**
 * The form that approves the list, or withdraws its approval, as the list was shown. Its
 * id and its button's are stable (entra-wp-sync-approve-removals-JOB and -submit, …).
 *
 * @param string $verb approve or withdraw.
 */
function entra_wp_sync_render_list_form( $job, $held, $what, $verb, $label ) {
	$form_id = 'entra-wp-sync-' . $verb . '-' . $what . '-' . $job;
	printf(
		'<form method="post" action="%s" id="%s">',
		esc_url( admin_url( 'admin-post.php' ) ),
		esc_attr( $form_id )
	);
	printf( '<input type="hidden" name="action" value="%s" />', esc_attr( 'entra_wp_sync_' . $verb . '_' . $what ) );
	printf( '<input type="hidden" name="job" value="%s" />', esc_attr( $job ) );
	printf( '<input type="hidden" name="held_run_id" value="%s" />', esc_attr( $held['runId'] ) );
	foreach ( entra_wp_sync_held_keys( $held, $what ) as $key ) {
		printf( '<input type="hidden" name="users[]" value="%s" />', esc_attr( entra_wp_sync_held_key_text( $key ) ) );
	}
	wp_nonce_field( entra_wp_sync_approval_nonce_action( $verb . '_' . $what, $job, $held['runId'] ) );
	submit_button( $label, 'approve' === $verb ? 'primary' : 'secondary', 'submit', false, array( 'id' => $form_id . '-submit' ) );
	echo '</form>';
}

/** A nonce is good for one list and one deed: the job, approve_removals…, and the run that held it. */
function entra_wp_sync_approval_nonce_action( $deed, $job, $held_run_id ) {
	return 'entra_wp_sync_' . $deed . '|' . $job . '|' . $held_run_id;
}

/*
 * Saving an approval (admin-post.php).
 */

function entra_wp_sync_handle_approve_removals() {
	entra_wp_sync_handle_approval( 'removals' );
}
add_action( 'admin_post_entra_wp_sync_approve_removals', 'entra_wp_sync_handle_approve_removals' );

function entra_wp_sync_handle_approve_adoptions() {
	entra_wp_sync_handle_approval( 'adoptions' );
}
add_action( 'admin_post_entra_wp_sync_approve_adoptions', 'entra_wp_sync_handle_approve_adoptions' );

function entra_wp_sync_handle_withdraw_removals() {
	entra_wp_sync_handle_withdrawal( 'removals' );
}
add_action( 'admin_post_entra_wp_sync_withdraw_removals', 'entra_wp_sync_handle_withdraw_removals' );

function entra_wp_sync_handle_withdraw_adoptions() {
	entra_wp_sync_handle_withdrawal( 'adoptions' );
}
add_action( 'admin_post_entra_wp_sync_withdraw_adoptions', 'entra_wp_sync_handle_withdraw_adoptions' );

/** Stops the request unless the current user may approve $what. */
function entra_wp_sync_refuse_unless_can_approve( $what ) {
	if ( entra_wp_sync_current_user_can_approve( $what ) ) {
		return;
	}
	wp_die(
		'removals' === $what
			? esc_html__( 'Sorry, you are not allowed to approve held removals: that takes an administrator who may delete users.', 'entra-wp-sync' )
			: esc_html__( 'Sorry, you are not allowed to approve held adoptions: that takes an administrator who may promote users.', 'entra-wp-sync' ),
		esc_html__( 'Not allowed', 'entra-wp-sync' ),
		array( 'response' => 403 )
	);
}

/**
 * The job, the held run and the users a form names, once the user may and the form's
 * nonce is good for that job and run.
 *
 * @param string $deed approve or withdraw.
 * @return array{0: string, 1: string, 2: string[]}
 */
function entra_wp_sync_posted_list( $deed, $what ) {
	entra_wp_sync_refuse_unless_can_approve( $what );
	// phpcs:disable WordPress.Security.NonceVerification.Missing -- the nonce names the job and run read here.
	$job         = isset( $_POST['job'] ) ? sanitize_text_field( wp_unslash( $_POST['job'] ) ) : '';
	$held_run_id = isset( $_POST['held_run_id'] ) ? sanitize_text_field( wp_unslash( $_POST['held_run_id'] ) ) : '';
	$posted      = isset( $_POST['users'] ) && is_array( $_POST['users'] ) ? array_map( 'sanitize_text_field', wp_unslash( $_POST['users'] ) ) : array();
	// phpcs:enable
	check_admin_referer( entra_wp_sync_approval_nonce_action( $deed . '_' . $what, $job, $held_run_id ) );
	if ( ! entra_wp_sync_is_job_name( $job ) ) {
		wp_die( esc_html__( 'No such sync job.', 'entra-wp-sync' ), esc_html__( 'Not approved', 'entra-wp-sync' ), array( 'response' => 400 ) );
	}
	return array( $job, $held_run_id, $posted );
}

/**
 * Stores the approval of a held list, if the list posted is the job's held list as it is
 * now, user for user; otherwise nothing is stored and the screen says the list changed.
 */
function entra_wp_sync_handle_approval( $what ) {
	list( $job, $held_run_id, $posted ) = entra_wp_sync_posted_list( 'approve', $what );
	$held     = entra_wp_sync_held_list( $job );
	$expected = null === $held ? array() : array_map( 'entra_wp_sync_held_key_text', entra_wp_sync_held_keys( $held, $what ) );
	sort( $expected );
	sort( $posted );
	$unchanged = null !== $held && $held['runId'] === $held_run_id && array() !== $expected && $expected === $posted
		&& entra_wp_sync_held_list_whole( $held, $what );
	if ( ! $unchanged ) {
		wp_safe_redirect( entra_wp_sync_approvals_screen_url( array( 'entra-wp-sync-approval' => 'changed', 'job' => $job ) ) );
		return;
	}
	entra_wp_sync_store_approval( $job, $held, $what, wp_get_current_user()->user_login );
	wp_safe_redirect( entra_wp_sync_approvals_screen_url( array( 'entra-wp-sync-approval' => $what, 'job' => $job ) ) );
}

/** Takes back the approval of one list of the held run; the other list's stays. */
function entra_wp_sync_handle_withdrawal( $what ) {
	list( $job, $held_run_id ) = entra_wp_sync_posted_list( 'withdraw', $what );
	$approvals = entra_wp_sync_site_approvals();
	if ( isset( $approvals[ $job ] ) && ( $approvals[ $job ]['heldRunId'] ?? null ) === $held_run_id ) {
		$approvals[ $job ][ $what ] = array();
		unset( $approvals[ $job ][ $what . 'By' ] );
		if ( empty( $approvals[ $job ]['removals'] ) && empty( $approvals[ $job ]['adoptions'] ) ) {
			unset( $approvals[ $job ] );
		}
		update_option( ENTRA_WP_SYNC_SITE_APPROVALS_OPTION, $approvals, false );
	}
	wp_safe_redirect( entra_wp_sync_approvals_screen_url( array( 'entra-wp-sync-approval' => 'withdrawn', 'job' => $job ) ) );
}

/**
 * Keeps the approval of $what beside one already given for the other list of the same
 * held run (a different administrator may approve each); one for an older run is replaced.
 */
function entra_wp_sync_store_approval( $job, $held, $what, $login ) {
	$approvals = entra_wp_sync_site_approvals();
	$approval  = $approvals[ $job ] ?? null;
	if ( ! is_array( $approval ) || ( $approval['heldRunId'] ?? null ) !== $held['runId'] ) {
		$approval = array(
			'heldRunId' => $held['runId'],
			'removals'  => array(),
			'adoptions' => array(),
		);
	}
	$approval[ $what ]        = entra_wp_sync_held_keys( $held, $what );
	$approval[ $what . 'By' ] = $login;
	$approval['by']           = $login;
	$approval['at']           = gmdate( 'Y-m-d\TH:i:s\Z' );
	$approvals[ $job ]        = $approval;
	update_option( ENTRA_WP_SYNC_SITE_APPROVALS_OPTION, $approvals, false );
}

/** After the redirect: what was stored, or why nothing was. */
function entra_wp_sync_approval_notice() {
	// phpcs:disable WordPress.Security.NonceVerification.Recommended -- only says what the stored approval is.
	$page   = isset( $_GET['page'] ) ? sanitize_key( wp_unslash( $_GET['page'] ) ) : '';
	$result = isset( $_GET['entra-wp-sync-approval'] ) ? sanitize_key( wp_unslash( $_GET['entra-wp-sync-approval'] ) ) : '';
	$job    = isset( $_GET['job'] ) ? sanitize_text_field( wp_unslash( $_GET['job'] ) ) : '';
	// phpcs:enable
	if ( 'entra-wp-sync' !== $page || '' === $result || ! entra_wp_sync_is_job_name( $job ) || ! current_user_can( 'list_users' ) ) {
		return;
	}
	$held     = entra_wp_sync_held_list( $job );
	$approval = entra_wp_sync_site_approval( $job );
	if ( in_array( $result, array( 'removals', 'adoptions' ), true ) && null !== $held && entra_wp_sync_held_list_approved( $approval, $held, $result ) ) {
		$count = count( $approval[ $result ] );
		printf(
			'<div class="notice notice-success is-dismissible" id="entra-wp-sync-approval-notice"><p>%s</p></div>',
			esc_html(
				sprintf(
					'removals' === $result
						/* translators: 1: how many users, 2: the job's name, 3: the id of the run that held them. */
						? _n( 'Approved %1$d held removal of job %2$s (run %3$s). The next run applies it.', 'Approved %1$d held removals of job %2$s (run %3$s). The next run applies them.', $count, 'entra-wp-sync' )
						/* translators: 1: how many accounts, 2: the job's name, 3: the id of the run that held them. */
						: _n( 'Approved %1$d held adoption of job %2$s (run %3$s). The next run links it.', 'Approved %1$d held adoptions of job %2$s (run %3$s). The next run links them.', $count, 'entra-wp-sync' ),
					$count,
					$job,
					$held['runId']
				)
			)
		);
		return;
	}
	if ( 'withdrawn' === $result ) {
		printf(
			'<div class="notice notice-info is-dismissible" id="entra-wp-sync-approval-notice"><p>%s</p></div>',
			esc_html(
				sprintf(
					/* translators: %s: the job's name. */
					__( 'The approval was withdrawn: the next run of job %s holds the list again.', 'entra-wp-sync' ),
					$job
				)
			)
		);
		return;
	}
	if ( 'changed' === $result ) {
		printf(
			'<div class="notice notice-error" id="entra-wp-sync-approval-notice"><p>%s</p></div>',
			esc_html(
				sprintf(
					/* translators: %s: the job's name. */
					__( 'Nothing was approved: the held list of job %s changed since the page was opened. Check the list below and approve it again.', 'entra-wp-sync' ),
					$job
				)
			)
		);
	}
}
add_action( 'admin_notices', 'entra_wp_sync_approval_notice' );

/*
 * REST: the sync reads the approval at the start of a run and removes it once used.
 */

/**
 * GET /entra-wp-sync/v1/approvals?job=NAME
 *
 * @return WP_REST_Response|WP_Error
 */
function entra_wp_sync_rest_get_approval( WP_REST_Request $request ) {
	$job = (string) $request['job'];
	if ( ! entra_wp_sync_is_job_name( $job ) ) {
		return entra_wp_sync_approval_job_missing();
	}
	$approval = entra_wp_sync_site_approval( $job );
	if ( null === $approval ) {
		return rest_ensure_response( array( 'approval' => null ) );
	}
	$answer = array(
		'heldRunId' => (string) $approval['heldRunId'],
		'removals'  => array_map( 'intval', $approval['removals'] ?? array() ),
		'adoptions' => array_values( $approval['adoptions'] ?? array() ),
		'by'        => (string) $approval['by'],
		'at'        => (string) $approval['at'],
	);
	foreach ( array( 'removalsBy', 'adoptionsBy' ) as $key ) {
		if ( isset( $approval[ $key ] ) ) {
			$answer[ $key ] = (string) $approval[ $key ];
		}
	}
	return rest_ensure_response( array( 'approval' => $answer ) );
}

/**
 * DELETE /entra-wp-sync/v1/approvals?job=NAME&heldRunId=RUN: removes the approval only if
 * it is still the one for that held run, so one given meanwhile for a newer list stays.
 *
 * @return WP_REST_Response|WP_Error
 */
function entra_wp_sync_rest_delete_approval( WP_REST_Request $request ) {
	$job = (string) $request['job'];
	if ( ! entra_wp_sync_is_job_name( $job ) || '' === (string) $request['heldRunId'] ) {
		return entra_wp_sync_approval_job_missing();
	}
	$approvals = entra_wp_sync_site_approvals();
	$deleted   = isset( $approvals[ $job ]['heldRunId'] ) && $approvals[ $job ]['heldRunId'] === (string) $request['heldRunId'];
	if ( $deleted ) {
		unset( $approvals[ $job ] );
		update_option( ENTRA_WP_SYNC_SITE_APPROVALS_OPTION, $approvals, false );
	}
	return rest_ensure_response( array( 'deleted' => $deleted ) );
}

function entra_wp_sync_approval_job_missing() {
	return new WP_Error(
		'entra_wp_sync_bad_approval_request',
		__( 'Name the job with ?job= (and the held run with &heldRunId= to remove its approval).', 'entra-wp-sync' ),
		array( 'status' => 400 )
	);
}

function entra_wp_sync_register_approval_routes() {
	$text = fn( $max_length, $description ) => array(
		'type'        => 'string',
		'maxLength'   => $max_length,
		'description' => $description,
	);
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/approvals',
		array(
			array(
				'methods'             => WP_REST_Server::READABLE,
				'callback'            => 'entra_wp_sync_rest_get_approval',
				'permission_callback' => 'entra_wp_sync_rest_can_manage_users',
				'args'                => array( 'job' => $text( 63, __( 'Name of the sync job.', 'entra-wp-sync' ) ) ),
			),
			array(
				'methods'             => WP_REST_Server::DELETABLE,
				'callback'            => 'entra_wp_sync_rest_delete_approval',
				'permission_callback' => 'entra_wp_sync_rest_can_manage_sync',
				'args'                => array(
					'job'       => $text( 63, __( 'Name of the sync job.', 'entra-wp-sync' ) ),
					'heldRunId' => $text( 200, __( 'Id of the run whose held list the approval named.', 'entra-wp-sync' ) ),
				),
			),
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_approval_routes' );
