<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 14. Users → Entra ID sync
 *
 * The screen the site's owners read the sync on: per job the last run at a glance
 * (outcome, counts, when, how long, what started it, the link to the run), where the
 * cycle stands, the last run's errors by reason, and the run history, newest first,
 * paged. It reads the run history option only (section 13), never the users table,
 * so it costs the same on a site of 100 users as on one of 100,000. It changes
 * nothing itself; other parts add their sections to a job with the
 * entra_wp_sync_admin_job_sections action.
 * -----------------------------------------------------------------------------
 */

function entra_wp_sync_load_textdomain() {
	load_plugin_textdomain( 'entra-wp-sync' );
}
add_action( 'init', 'entra_wp_sync_load_textdomain' );

/** The screen shows who the sync changed and why: for those who may list and edit users. */
function entra_wp_sync_admin_can_see() {
	return current_user_can( 'list_users' ) && current_user_can( 'edit_users' );
}

function entra_wp_sync_admin_menu() {
	// Not registered for anyone else, so WordPress refuses them the page (403) itself.
	if ( ! entra_wp_sync_admin_can_see() ) {
		return;
	}
	add_users_page(
		__( 'Entra ID sync', 'entra-wp-sync' ),
		__( 'Entra ID sync', 'entra-wp-sync' ),
		'list_users',
		'entra-wp-sync',
		'entra_wp_sync_render_admin_screen'
	);
}
add_action( 'admin_menu', 'entra_wp_sync_admin_menu' );

function entra_wp_sync_outcome_label( $outcome ) {
	$labels = array(
		'ok'      => __( 'OK', 'entra-wp-sync' ),
		'partial' => __( 'Partial: some users could not be synced', 'entra-wp-sync' ),
		'held'    => __( 'Held: removals or adoptions wait for approval', 'entra-wp-sync' ),
		'failed'  => __( 'Failed', 'entra-wp-sync' ),
	);
	return $labels[ $outcome ] ?? (string) $outcome;
}

/** The notice class WordPress colours an outcome with. */
function entra_wp_sync_outcome_notice( $outcome ) {
	$notices = array(
		'ok'      => 'notice-success',
		'partial' => 'notice-warning',
		'held'    => 'notice-warning',
		'failed'  => 'notice-error',
	);
	return $notices[ $outcome ] ?? 'notice-info';
}

function entra_wp_sync_trigger_label( $trigger ) {
	$labels = array(
		'schedule'  => __( 'the schedule', 'entra-wp-sync' ),
		'dispatch'  => __( 'a dispatch of the workflow', 'entra-wp-sync' ),
		'manual'    => __( 'a person, on a terminal', 'entra-wp-sync' ),
		'container' => __( 'a container or cron job', 'entra-wp-sync' ),
		'push'      => __( 'a push to the repository', 'entra-wp-sync' ),
		'other'     => __( 'another workflow event', 'entra-wp-sync' ),
	);
	return $labels[ $trigger ] ?? (string) $trigger;
}

/** What each count means, in the order the tool's summary lists them. */
function entra_wp_sync_count_labels() {
	return array(
		'created'   => __( 'Created', 'entra-wp-sync' ),
		'adopted'   => __( 'Adopted (existing accounts linked)', 'entra-wp-sync' ),
		'updated'   => __( 'Updated', 'entra-wp-sync' ),
		'restored'  => __( 'Restored', 'entra-wp-sync' ),
		'disabled'  => __( 'Disabled', 'entra-wp-sync' ),
		'deleted'   => __( 'Deleted', 'entra-wp-sync' ),
		'unchanged' => __( 'Unchanged', 'entra-wp-sync' ),
		'skipped'   => __( 'Skipped', 'entra-wp-sync' ),
		'held'      => __( 'Held for approval', 'entra-wp-sync' ),
		'failed'    => __( 'Could not be synced', 'entra-wp-sync' ),
	);
}

function entra_wp_sync_format_duration( $milliseconds ) {
	$seconds = (int) round( $milliseconds / 1000 );
	if ( $seconds < 60 ) {
		/* translators: %s: a number of seconds. */
		return sprintf( __( '%s s', 'entra-wp-sync' ), number_format_i18n( $seconds ) );
	}
	if ( $seconds < HOUR_IN_SECONDS ) {
		/* translators: 1: minutes, 2: seconds. */
		return sprintf( __( '%1$s min %2$s s', 'entra-wp-sync' ), number_format_i18n( intdiv( $seconds, 60 ) ), number_format_i18n( $seconds % 60 ) );
	}
	/* translators: 1: hours, 2: minutes. */
	return sprintf( __( '%1$s h %2$s min', 'entra-wp-sync' ), number_format_i18n( intdiv( $seconds, HOUR_IN_SECONDS ) ), number_format_i18n( intdiv( $seconds % HOUR_IN_SECONDS, 60 ) ) );
}

/** When a run started, in the site's format, with the exact time for machines. */
function entra_wp_sync_run_time_html( $started_at ) {
	$time = strtotime( (string) $started_at );
	if ( false === $time ) {
		return esc_html( (string) $started_at );
	}
	return sprintf(
		'<time datetime="%1$s">%2$s</time> (%3$s)',
		esc_attr( gmdate( 'c', $time ) ),
		esc_html( wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), $time ) ),
		/* translators: %s: a span of time, e.g. "5 mins". */
		esc_html( sprintf( __( '%s ago', 'entra-wp-sync' ), human_time_diff( $time ) ) )
	);
}

/** A link to the run's page, or nothing when the run had none (outside GitHub Actions). */
function entra_wp_sync_run_link_html( $record, $text ) {
	if ( empty( $record['url'] ) ) {
		return '';
	}
	return sprintf( '<a class="entra-wp-sync-run-link" href="%1$s">%2$s</a>', esc_url( $record['url'] ), esc_html( $text ) );
}

/** The job to show in detail: the one asked for, else the first. */
function entra_wp_sync_admin_selected_job( $history ) {
	// PHP turns a job named like a number into an integer key.
	$jobs = array_map( 'strval', array_keys( $history ) );
	// Only picks which job's history to read: no change is made, so there is no nonce to check.
	$asked = isset( $_GET['job'] ) ? sanitize_key( wp_unslash( $_GET['job'] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
	return in_array( $asked, $jobs, true ) ? $asked : (string) reset( $jobs );
}

function entra_wp_sync_render_admin_screen() {
	if ( ! entra_wp_sync_admin_can_see() ) {
		wp_die( esc_html__( 'Sorry, you are not allowed to see the Entra ID sync.', 'entra-wp-sync' ), 403 );
	}
	$history = array_filter( entra_wp_sync_run_history(), fn( $runs ) => is_array( $runs ) && array() !== $runs );
	echo '<div class="wrap" id="entra-wp-sync">';
	printf( '<h1>%s</h1>', esc_html( get_admin_page_title() ) );
	if ( array() === $history ) {
		entra_wp_sync_render_empty_state();
		echo '</div>';
		return;
	}
	$job = entra_wp_sync_admin_selected_job( $history );
	entra_wp_sync_render_job_overview( $history, $job );
	entra_wp_sync_render_job( $job, $history[ $job ] );
	echo '</div>';
}

function entra_wp_sync_render_empty_state() {
	printf(
		'<div class="notice notice-info inline" id="entra-wp-sync-empty"><p><strong>%1$s</strong></p><p>%2$s</p><p>%3$s</p></div>',
		esc_html__( 'No sync run has reported to this site yet.', 'entra-wp-sync' ),
		sprintf(
			/* translators: 1: a command, 2: a command. */
			esc_html__( 'Each run of entra-wp-sync records here what it did when it finishes. Run the sync with this site in its jobs.yaml: the scheduled or manual GitHub workflow, the container, or %1$s on a terminal. A preview (%2$s) is recorded too, marked as one.', 'entra-wp-sync' ),
			'<code>entra-wp-sync run -c jobs.yaml</code>',
			'<code>--dry-run</code>'
		),
		sprintf(
			/* translators: %s: a command. */
			esc_html__( 'To check the connection first without changing anything, run %s.', 'entra-wp-sync' ),
			'<code>entra-wp-sync check</code>'
		)
	);
}

/**
 * One row per job: how its last run went, so that several jobs are seen at a glance.
 *
 * @param array<string, array<int, array<string, mixed>>> $history
 */
function entra_wp_sync_render_job_overview( $history, $selected ) {
	printf(
		'<table class="widefat striped entra-wp-sync-jobs"><thead><tr><th scope="col">%1$s</th><th scope="col">%2$s</th><th scope="col">%3$s</th><th scope="col">%4$s</th></tr></thead><tbody>',
		esc_html__( 'Job', 'entra-wp-sync' ),
		esc_html__( 'Last run', 'entra-wp-sync' ),
		esc_html__( 'Started', 'entra-wp-sync' ),
		esc_html__( 'Run', 'entra-wp-sync' )
	);
	foreach ( $history as $key => $runs ) {
		$job  = (string) $key;
		$last = $runs[0];
		$url  = add_query_arg(
			array(
				'page' => 'entra-wp-sync',
				'job'  => $job,
			),
			admin_url( 'users.php' )
		);
		printf(
			'<tr data-job="%1$s"%2$s><td><a href="%3$s">%4$s</a></td><td class="entra-wp-sync-outcome" data-outcome="%5$s">%6$s%7$s</td><td>%8$s</td><td>%9$s</td></tr>',
			esc_attr( $job ),
			$job === $selected ? ' aria-current="true"' : '',
			esc_url( $url ),
			esc_html( $job ),
			esc_attr( $last['outcome'] ),
			esc_html( entra_wp_sync_outcome_label( $last['outcome'] ) ),
			empty( $last['dryRun'] ) ? '' : ' ' . esc_html__( '(preview)', 'entra-wp-sync' ),
			entra_wp_sync_run_time_html( $last['startedAt'] ), // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped where it is built.
			entra_wp_sync_run_link_html( $last, __( 'Open the run', 'entra-wp-sync' ) ) // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped where it is built.
		);
	}
	echo '</tbody></table>';
}

/**
 * A job's section: the last run, its counts, the cycle, its errors, other parts' sections,
 * and the history.
 *
 * @param array<int, array<string, mixed>> $runs Newest first.
 */
function entra_wp_sync_render_job( $job, $runs ) {
	$last = $runs[0];
	printf( '<div class="entra-wp-sync-job" id="%1$s" data-job="%2$s">', esc_attr( 'entra-wp-sync-job-' . $job ), esc_attr( $job ) );
	/* translators: %s: the name of a sync job. */
	printf( '<h2>%s</h2>', esc_html( sprintf( __( 'Job %s', 'entra-wp-sync' ), $job ) ) );
	entra_wp_sync_render_last_run( $last );
	entra_wp_sync_render_counts( $last );
	entra_wp_sync_render_cycle( $runs );
	entra_wp_sync_render_errors( $last );
	/**
	 * Fires after a job's last run and its errors on Users → Entra ID sync, for sections
	 * of their own (held lists and their approval).
	 *
	 * @param string               $job         The job's name.
	 * @param array<string, mixed> $last_record The job's newest run record.
	 */
	do_action( 'entra_wp_sync_admin_job_sections', $job, $last );
	entra_wp_sync_render_history( $job, $runs );
	echo '</div>';
}

/** @param array<string, mixed> $last */
function entra_wp_sync_render_last_run( $last ) {
	$outcome = (string) $last['outcome'];
	printf(
		'<div class="notice inline %1$s entra-wp-sync-last-run" data-outcome="%2$s" data-run-id="%3$s"><p><strong class="entra-wp-sync-outcome">%4$s</strong>%5$s</p><p>%6$s %7$s</p>',
		esc_attr( entra_wp_sync_outcome_notice( $outcome ) ),
		esc_attr( $outcome ),
		esc_attr( $last['runId'] ),
		/* translators: %s: how the run went, e.g. OK or Failed. */
		esc_html( sprintf( __( 'Last run: %s', 'entra-wp-sync' ), entra_wp_sync_outcome_label( $outcome ) ) ),
		empty( $last['dryRun'] ) ? '' : ' <span class="entra-wp-sync-preview">' . esc_html__( '(a preview: nothing was written)', 'entra-wp-sync' ) . '</span>',
		sprintf(
			/* translators: 1: when the run started, 2: how long it took, 3: what started it, 4: the run's id. */
			esc_html__( 'Started %1$s, took %2$s, started by %3$s. Run %4$s.', 'entra-wp-sync' ),
			entra_wp_sync_run_time_html( $last['startedAt'] ), // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped where it is built.
			'<span class="entra-wp-sync-duration">' . esc_html( entra_wp_sync_format_duration( $last['durationMs'] ) ) . '</span>',
			'<span class="entra-wp-sync-trigger" data-trigger="' . esc_attr( $last['trigger'] ) . '">' . esc_html( entra_wp_sync_trigger_label( $last['trigger'] ) ) . '</span>',
			'<code>' . esc_html( $last['runId'] ) . '</code>'
		),
		entra_wp_sync_run_link_html( $last, __( 'Open the run, its logs and reports', 'entra-wp-sync' ) ) // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped where it is built.
	);
	if ( ! empty( $last['failure'] ) ) {
		printf( '<p class="entra-wp-sync-failure"><strong>%s</strong></p>', esc_html( $last['failure']['message'] ) );
		if ( ! empty( $last['failure']['hint'] ) ) {
			printf( '<p class="entra-wp-sync-hint">%s</p>', esc_html( $last['failure']['hint'] ) );
		}
	}
	if ( ! empty( $last['stopReason'] ) ) {
		/* translators: %s: why the run stopped before the end of its cycle. */
		printf( '<p class="entra-wp-sync-stop">%s</p>', esc_html( sprintf( __( 'Stopped early: %s', 'entra-wp-sync' ), $last['stopReason'] ) ) );
	}
	if ( ! empty( $last['approvedBy'] ) ) {
		/* translators: %s: who approved. */
		printf( '<p class="entra-wp-sync-approved-by">%s</p>', esc_html( sprintf( __( 'Applied a held list approved by %s.', 'entra-wp-sync' ), $last['approvedBy'] ) ) );
	}
	echo '</div>';
}

/** @param array<string, mixed> $last */
function entra_wp_sync_render_counts( $last ) {
	$labels = entra_wp_sync_count_labels();
	$counts = is_array( $last['counts'] ) ? $last['counts'] : array();
	$keys   = array_unique( array_merge( array_keys( $labels ), array_keys( $counts ) ) );
	printf(
		'<h3>%1$s</h3><table class="widefat striped entra-wp-sync-counts"><thead><tr><th scope="col">%2$s</th><th scope="col">%3$s</th></tr></thead><tbody>',
		esc_html__( 'What the last run did', 'entra-wp-sync' ),
		esc_html__( 'Users', 'entra-wp-sync' ),
		esc_html__( 'Count', 'entra-wp-sync' )
	);
	foreach ( $keys as $key ) {
		$count = (int) ( $counts[ $key ] ?? 0 );
		if ( 0 === $count && ! in_array( $key, array( 'created', 'updated' ), true ) ) {
			continue;
		}
		printf(
			'<tr data-count="%1$s"><th scope="row">%2$s</th><td>%3$s</td></tr>',
			esc_attr( $key ),
			esc_html( $labels[ $key ] ?? $key ),
			esc_html( number_format_i18n( $count ) )
		);
	}
	echo '</tbody></table>';
}

/**
 * Where the job's cycle stands, from its newest run that read one (a run for one user
 * moves none).
 *
 * @param array<int, array<string, mixed>> $runs Newest first.
 */
function entra_wp_sync_render_cycle( $runs ) {
	$cycle = null;
	foreach ( $runs as $run ) {
		if ( ! empty( $run['cycle'] ) ) {
			$cycle = $run['cycle'];
			break;
		}
	}
	printf( '<h3>%s</h3><div class="entra-wp-sync-cycle">', esc_html__( 'Cycle', 'entra-wp-sync' ) );
	if ( null === $cycle ) {
		printf( '<p>%s</p></div>', esc_html__( 'No run has read a cycle yet.', 'entra-wp-sync' ) );
		return;
	}
	$users = number_format_i18n( $cycle['usersSoFar'] );
	$total = null === $cycle['total'] ? null : number_format_i18n( $cycle['total'] );
	if ( 'delta' === $cycle['kind'] ) {
		$text = $cycle['complete']
			/* translators: %s: a number of users. */
			? sprintf( __( 'Delta round complete: %s changed users read since the run before.', 'entra-wp-sync' ), $users )
			/* translators: %s: a number of users. */
			: sprintf( __( 'Delta round in progress: %s changed users so far; the next run continues.', 'entra-wp-sync' ), $users );
	} elseif ( $cycle['complete'] ) {
		$text = null === $total
			/* translators: 1: a number of pages, 2: a number of users. */
			? sprintf( __( 'Cycle complete: %1$s pages, %2$s users.', 'entra-wp-sync' ), number_format_i18n( $cycle['page'] ), $users )
			/* translators: 1: a number of pages, 2: a number of users, 3: the number of users in scope. */
			: sprintf( __( 'Cycle complete: %1$s pages, %2$s of %3$s users.', 'entra-wp-sync' ), number_format_i18n( $cycle['page'] ), $users, $total );
	} else {
		$text = null === $total
			/* translators: 1: a page number, 2: a number of users. */
			? sprintf( __( 'Cycle in progress: page %1$s, %2$s users so far; the next run continues.', 'entra-wp-sync' ), number_format_i18n( $cycle['page'] ), $users )
			/* translators: 1: a page number, 2: a number of users, 3: the number of users in scope. */
			: sprintf( __( 'Cycle in progress: page %1$s, %2$s of %3$s users so far; the next run continues.', 'entra-wp-sync' ), number_format_i18n( $cycle['page'] ), $users, $total );
	}
	printf(
		'<p data-page="%1$s" data-users="%2$s" data-total="%3$s" data-complete="%4$s">%5$s</p>',
		esc_attr( (string) $cycle['page'] ),
		esc_attr( (string) $cycle['usersSoFar'] ),
		esc_attr( null === $cycle['total'] ? '' : (string) $cycle['total'] ),
		$cycle['complete'] ? 'true' : 'false',
		esc_html( $text )
	);
	if ( null !== $cycle['total'] && $cycle['total'] > 0 && 'full' === $cycle['kind'] ) {
		printf(
			'<progress max="%1$s" value="%2$s" aria-label="%3$s"></progress>',
			esc_attr( (string) $cycle['total'] ),
			esc_attr( (string) min( $cycle['usersSoFar'], $cycle['total'] ) ),
			esc_attr__( 'Users read in this cycle', 'entra-wp-sync' )
		);
	}
	echo '</div>';
}

/** @param array<string, mixed> $last */
function entra_wp_sync_render_errors( $last ) {
	$errors = is_array( $last['errors'] ?? null ) ? $last['errors'] : array();
	printf( '<h3>%s</h3><div class="entra-wp-sync-errors">', esc_html__( 'Users the last run could not sync', 'entra-wp-sync' ) );
	if ( array() === $errors ) {
		printf( '<p>%s</p></div>', esc_html__( 'None.', 'entra-wp-sync' ) );
		return;
	}
	printf(
		'<table class="widefat striped"><thead><tr><th scope="col">%1$s</th><th scope="col">%2$s</th><th scope="col">%3$s</th></tr></thead><tbody>',
		esc_html__( 'Reason', 'entra-wp-sync' ),
		esc_html__( 'Users', 'entra-wp-sync' ),
		esc_html__( 'For example', 'entra-wp-sync' )
	);
	foreach ( $errors as $group ) {
		$examples = '';
		foreach ( $group['examples'] as $example ) {
			$examples .= sprintf( '<li><code>%1$s</code>: %2$s</li>', esc_html( $example['user'] ), esc_html( $example['message'] ) );
		}
		printf(
			'<tr class="entra-wp-sync-error"><td>%1$s</td><td>%2$s</td><td>%3$s</td></tr>',
			esc_html( $group['reason'] ),
			esc_html( number_format_i18n( $group['count'] ) ),
			'' === $examples ? '' : '<ul>' . $examples . '</ul>' // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped where it is built.
		);
	}
	echo '</tbody></table>';
	foreach ( (array) ( $last['notes'] ?? array() ) as $note ) {
		printf( '<p class="description">%s</p>', esc_html( $note ) );
	}
	echo '</div>';
}

/**
 * The job's runs, newest first, in WordPress's list table, paged.
 *
 * @param array<int, array<string, mixed>> $runs
 */
function entra_wp_sync_render_history( $job, $runs ) {
	$table = new Entra_WP_Sync_Run_History_Table( $runs );
	$table->prepare_items();
	printf( '<h3>%s</h3><form method="get" class="entra-wp-sync-history">', esc_html__( 'Run history', 'entra-wp-sync' ) );
	echo '<input type="hidden" name="page" value="entra-wp-sync" />';
	printf( '<input type="hidden" name="job" value="%s" />', esc_attr( $job ) );
	$table->display();
	echo '</form>';
}

/*
 * WP_List_Table is loaded in wp-admin only, and the class must extend it where it is
 * declared: it is declared on admin requests, which are the only ones that render it.
 */
if ( is_admin() ) {
	require_once ABSPATH . 'wp-admin/includes/class-wp-list-table.php';

	/** One job's run records, newest first, 20 a page. */
	class Entra_WP_Sync_Run_History_Table extends WP_List_Table {
		/** @var array<int, array<string, mixed>> */
		private $runs;

		/** @param array<int, array<string, mixed>> $runs Newest first. */
		public function __construct( $runs ) {
			parent::__construct(
				array(
					'singular' => 'entra-wp-sync-run',
					'plural'   => 'entra-wp-sync-runs',
					'ajax'     => false,
				)
			);
			$this->runs = $runs;
		}

		public function get_columns() {
			return array(
				'started'  => __( 'Started', 'entra-wp-sync' ),
				'outcome'  => __( 'Outcome', 'entra-wp-sync' ),
				'trigger'  => __( 'Started by', 'entra-wp-sync' ),
				'duration' => __( 'Took', 'entra-wp-sync' ),
				'changes'  => __( 'Changes', 'entra-wp-sync' ),
				'failed'   => __( 'Could not be synced', 'entra-wp-sync' ),
				'run'      => __( 'Run', 'entra-wp-sync' ),
			);
		}

		public function prepare_items() {
			$per_page              = 20;
			$this->_column_headers = array( $this->get_columns(), array(), array() );
			$this->items           = array_slice( $this->runs, ( $this->get_pagenum() - 1 ) * $per_page, $per_page );
			$this->set_pagination_args(
				array(
					'total_items' => count( $this->runs ),
					'per_page'    => $per_page,
				)
			);
		}

		public function no_items() {
			esc_html_e( 'No runs recorded.', 'entra-wp-sync' );
		}

		/** @param array<string, mixed> $item */
		public function single_row( $item ) {
			printf( '<tr data-run-id="%1$s" data-outcome="%2$s">', esc_attr( $item['runId'] ), esc_attr( $item['outcome'] ) );
			$this->single_row_columns( $item );
			echo '</tr>';
		}

		/** @param array<string, mixed> $item */
		public function column_default( $item, $column_name ) {
			$counts = is_array( $item['counts'] ) ? $item['counts'] : array();
			switch ( $column_name ) {
				case 'started':
					return entra_wp_sync_run_time_html( $item['startedAt'] );
				case 'outcome':
					return esc_html( entra_wp_sync_outcome_label( $item['outcome'] ) ) . ( empty( $item['dryRun'] ) ? '' : ' ' . esc_html__( '(preview)', 'entra-wp-sync' ) );
				case 'trigger':
					return esc_html( entra_wp_sync_trigger_label( $item['trigger'] ) );
				case 'duration':
					return esc_html( entra_wp_sync_format_duration( $item['durationMs'] ) );
				case 'changes':
					return esc_html( entra_wp_sync_changes_text( $counts ) );
				case 'failed':
					return esc_html( number_format_i18n( (int) ( $counts['failed'] ?? 0 ) ) );
				case 'run':
					return entra_wp_sync_run_link_html( $item, __( 'Open', 'entra-wp-sync' ) ) . ' <code>' . esc_html( $item['runId'] ) . '</code>';
			}
			return '';
		}
	}
}

/** "3 created, 1 disabled", or that nothing changed. */
function entra_wp_sync_changes_text( $counts ) {
	$formats = array(
		/* translators: %s: a number of users. */
		'created'  => __( '%s created', 'entra-wp-sync' ),
		/* translators: %s: a number of users. */
		'adopted'  => __( '%s adopted', 'entra-wp-sync' ),
		/* translators: %s: a number of users. */
		'updated'  => __( '%s updated', 'entra-wp-sync' ),
		/* translators: %s: a number of users. */
		'restored' => __( '%s restored', 'entra-wp-sync' ),
		/* translators: %s: a number of users. */
		'disabled' => __( '%s disabled', 'entra-wp-sync' ),
		/* translators: %s: a number of users. */
		'deleted'  => __( '%s deleted', 'entra-wp-sync' ),
	);
	$parts   = array();
	foreach ( $formats as $key => $format ) {
		if ( ! empty( $counts[ $key ] ) ) {
			$parts[] = sprintf( $format, number_format_i18n( (int) $counts[ $key ] ) );
		}
	}
	/* translators: the separator between counts, e.g. "3 created, 1 disabled". */
	return array() === $parts ? __( 'no change', 'entra-wp-sync' ) : implode( __( ', ', 'entra-wp-sync' ), $parts );
}
