<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 13. Run history
 *
 * At the end of each run the tool posts one compact record per job (what it did,
 * where its cycle stands, its errors by reason, what it holds for approval, the link
 * to the run), so the site's owners see the sync under Users → Entra ID sync without
 * opening GitHub. All records live in one option that is not autoloaded, job → list
 * of records, newest first: the screen reads that one option, never the users table.
 *
 * Bounds: at most entra_wp_sync_run_history_size() records a job (option or filter
 * of that name, default 50), each record at most ENTRA_WP_SYNC_RUN_RECORD_MAX_BYTES
 * as JSON (the examples go first, then the held lists, each time with a note), and
 * at most ENTRA_WP_SYNC_RUN_HISTORY_MAX_BYTES in all (the oldest records go).
 * -----------------------------------------------------------------------------
 */

define( 'ENTRA_WP_SYNC_RUN_HISTORY_OPTION', 'entra_wp_sync_run_history' );
define( 'ENTRA_WP_SYNC_RUN_RECORD_MAX_BYTES', 32 * KB_IN_BYTES );
define( 'ENTRA_WP_SYNC_RUN_HISTORY_MAX_BYTES', 4 * MB_IN_BYTES );

/** What may start a run, as the tool names it. */
function entra_wp_sync_run_triggers() {
	return array( 'schedule', 'dispatch', 'manual', 'container', 'push', 'other' );
}

function entra_wp_sync_run_outcomes() {
	return array( 'ok', 'partial', 'held', 'failed' );
}

/**
 * How many records a job keeps: the option entra_wp_sync_run_history_size, then the filter
 * of the same name; 1 to 500.
 *
 * @return int
 */
function entra_wp_sync_run_history_size() {
	$size = (int) apply_filters( 'entra_wp_sync_run_history_size', (int) get_option( 'entra_wp_sync_run_history_size', 50 ) );
	return max( 1, min( 500, $size ) );
}

/**
 * Reading the history shows who the sync changed and why, as the Users screens do: the
 * caller must be able to list and edit users.
 *
 * @return true|WP_Error
 */
function entra_wp_sync_rest_can_read_runs() {
	if ( current_user_can( 'list_users' ) && current_user_can( 'edit_users' ) ) {
		return true;
	}
	return new WP_Error(
		'entra_wp_sync_forbidden',
		__( 'Sorry, you are not allowed to see the sync’s run history.', 'entra-wp-sync' ),
		array( 'status' => rest_authorization_required_code() )
	);
}

/**
 * The whole history, job → records newest first.
 *
 * @return array<string, array<int, array<string, mixed>>>
 */
function entra_wp_sync_run_history() {
	$history = get_option( ENTRA_WP_SYNC_RUN_HISTORY_OPTION, array() );
	return is_array( $history ) ? $history : array();
}

/** A text of at most $length characters, or null when the value is not text. */
function entra_wp_sync_run_text( $value, $length ) {
	if ( ! is_string( $value ) ) {
		return null;
	}
	return mb_strlen( $value ) > $length ? mb_substr( $value, 0, $length - 1 ) . '…' : $value;
}

function entra_wp_sync_run_count( $value ) {
	return is_int( $value ) && $value >= 0 ? $value : 0;
}

/**
 * The record as it is kept: the known fields only, each of its type and length.
 *
 * @param array<string, mixed> $given The record as posted.
 * @return array<string, mixed>|WP_Error
 */
function entra_wp_sync_clean_run_record( $given ) {
	$job = isset( $given['job'] ) && is_string( $given['job'] ) ? $given['job'] : '';
	if ( ! preg_match( '/^[a-z0-9][a-z0-9_-]{0,62}$/', $job ) ) {
		return entra_wp_sync_bad_run_record( 'job', __( 'a job name (lower-case letters, digits, - and _)', 'entra-wp-sync' ) );
	}
	$run_id = entra_wp_sync_run_text( $given['runId'] ?? null, 200 );
	if ( null === $run_id || '' === $run_id ) {
		return entra_wp_sync_bad_run_record( 'runId', __( 'the run’s id', 'entra-wp-sync' ) );
	}
	$started_at = entra_wp_sync_run_text( $given['startedAt'] ?? null, 64 );
	if ( null === $started_at || false === strtotime( $started_at ) ) {
		return entra_wp_sync_bad_run_record( 'startedAt', __( 'an RFC 3339 time', 'entra-wp-sync' ) );
	}
	$outcome = $given['outcome'] ?? null;
	if ( ! in_array( $outcome, entra_wp_sync_run_outcomes(), true ) ) {
		return entra_wp_sync_bad_run_record( 'outcome', implode( ', ', entra_wp_sync_run_outcomes() ) );
	}
	$trigger = in_array( $given['trigger'] ?? null, entra_wp_sync_run_triggers(), true ) ? $given['trigger'] : 'other';
	$url     = isset( $given['url'] ) && is_string( $given['url'] ) ? esc_url_raw( $given['url'], array( 'https', 'http' ) ) : '';
	return array(
		'job'        => $job,
		'runId'      => $run_id,
		'trigger'    => $trigger,
		'startedAt'  => $started_at,
		'durationMs' => entra_wp_sync_run_count( $given['durationMs'] ?? 0 ),
		'dryRun'     => true === ( $given['dryRun'] ?? false ),
		'outcome'    => $outcome,
		'counts'     => entra_wp_sync_clean_run_counts( $given['counts'] ?? array() ),
		'cycle'      => entra_wp_sync_clean_run_cycle( $given['cycle'] ?? null ),
		'errors'     => entra_wp_sync_clean_run_errors( $given['errors'] ?? array() ),
		'failure'    => entra_wp_sync_clean_run_failure( $given['failure'] ?? null ),
		'stopReason' => entra_wp_sync_run_text( $given['stopReason'] ?? null, 500 ),
		'held'       => entra_wp_sync_clean_run_held( $given['held'] ?? null ),
		'approvedBy' => entra_wp_sync_run_text( $given['approvedBy'] ?? null, 200 ),
		'url'        => '' === $url ? null : $url,
	);
}

function entra_wp_sync_bad_run_record( $key, $expected ) {
	return new WP_Error(
		'entra_wp_sync_bad_run_record',
		sprintf(
			/* translators: 1: a field of the run record, 2: what it must hold. */
			__( 'The run record’s %1$s must be %2$s. Update entra-wp-sync and the companion plugin to the same version.', 'entra-wp-sync' ),
			$key,
			$expected
		),
		array( 'status' => 400 )
	);
}

/** @return array<string, int> */
function entra_wp_sync_clean_run_counts( $given ) {
	$counts = array();
	if ( ! is_array( $given ) ) {
		return $counts;
	}
	foreach ( $given as $action => $count ) {
		if ( is_string( $action ) && preg_match( '/^[a-z][a-z-]{0,30}$/', $action ) && count( $counts ) < 30 ) {
			$counts[ $action ] = entra_wp_sync_run_count( $count );
		}
	}
	return $counts;
}

/** @return array<string, mixed>|null */
function entra_wp_sync_clean_run_cycle( $given ) {
	if ( ! is_array( $given ) ) {
		return null;
	}
	return array(
		'cycleId'    => entra_wp_sync_run_text( $given['cycleId'] ?? null, 100 ),
		'kind'       => 'delta' === ( $given['kind'] ?? null ) ? 'delta' : 'full',
		'page'       => entra_wp_sync_run_count( $given['page'] ?? 0 ),
		'usersSoFar' => entra_wp_sync_run_count( $given['usersSoFar'] ?? 0 ),
		'total'      => isset( $given['total'] ) && is_int( $given['total'] ) ? entra_wp_sync_run_count( $given['total'] ) : null,
		'complete'   => true === ( $given['complete'] ?? false ),
	);
}

/** @return array<int, array<string, mixed>> */
function entra_wp_sync_clean_run_errors( $given ) {
	$errors = array();
	foreach ( is_array( $given ) ? array_slice( array_values( $given ), 0, 20 ) : array() as $group ) {
		$reason = is_array( $group ) ? entra_wp_sync_run_text( $group['reason'] ?? null, 500 ) : null;
		if ( null === $reason ) {
			continue;
		}
		$examples = array();
		foreach ( is_array( $group['examples'] ?? null ) ? array_slice( array_values( $group['examples'] ), 0, 3 ) : array() as $example ) {
			if ( is_array( $example ) ) {
				$examples[] = array(
					'user'    => (string) entra_wp_sync_run_text( $example['user'] ?? '', 200 ),
					'message' => (string) entra_wp_sync_run_text( $example['message'] ?? '', 300 ),
				);
			}
		}
		$errors[] = array(
			'reason'   => $reason,
			'count'    => entra_wp_sync_run_count( $group['count'] ?? 0 ),
			'examples' => $examples,
		);
	}
	return $errors;
}

/** @return array<string, mixed>|null */
function entra_wp_sync_clean_run_failure( $given ) {
	$message = is_array( $given ) ? entra_wp_sync_run_text( $given['message'] ?? null, 1000 ) : null;
	if ( null === $message ) {
		return null;
	}
	return array(
		'message' => $message,
		'hint'    => entra_wp_sync_run_text( $given['hint'] ?? null, 1000 ),
		'source'  => (string) entra_wp_sync_run_text( $given['source'] ?? 'other', 20 ),
	);
}

/** @return array<string, mixed>|null */
function entra_wp_sync_clean_run_held( $given ) {
	if ( ! is_array( $given ) || ! is_string( $given['runId'] ?? null ) ) {
		return null;
	}
	$removals  = array();
	$adoptions = array();
	foreach ( is_array( $given['removals'] ?? null ) ? array_slice( array_values( $given['removals'] ), 0, 200 ) : array() as $user ) {
		if ( is_array( $user ) && is_int( $user['id'] ?? null ) ) {
			$removals[] = array(
				'id'    => $user['id'],
				'login' => (string) entra_wp_sync_run_text( $user['login'] ?? '', 60 ),
				'upn'   => entra_wp_sync_run_text( $user['upn'] ?? null, 200 ),
			);
		}
	}
	foreach ( is_array( $given['adoptions'] ?? null ) ? array_slice( array_values( $given['adoptions'] ), 0, 200 ) : array() as $pair ) {
		if ( is_array( $pair ) && is_string( $pair['objectId'] ?? null ) && is_int( $pair['wordpressId'] ?? null ) ) {
			$adoptions[] = array(
				'objectId'    => (string) entra_wp_sync_run_text( $pair['objectId'], 100 ),
				'wordpressId' => $pair['wordpressId'],
				'login'       => (string) entra_wp_sync_run_text( $pair['login'] ?? '', 60 ),
				'upn'         => entra_wp_sync_run_text( $pair['upn'] ?? null, 200 ),
			);
		}
	}
	return array(
		'runId'          => (string) entra_wp_sync_run_text( $given['runId'], 200 ),
		'removals'       => $removals,
		'adoptions'      => $adoptions,
		'removalsTotal'  => max( count( $removals ), entra_wp_sync_run_count( $given['removalsTotal'] ?? 0 ) ),
		'adoptionsTotal' => max( count( $adoptions ), entra_wp_sync_run_count( $given['adoptionsTotal'] ?? 0 ) ),
	);
}

/** When a run started, to the microsecond (RFC 3339 times compare wrongly as text across offsets). */
function entra_wp_sync_run_started( $record ) {
	try {
		return (float) ( new DateTimeImmutable( (string) ( $record['startedAt'] ?? '' ) ) )->format( 'U.u' );
	} catch ( Exception $error ) {
		return 0.0;
	}
}

/**
 * Newest first; usort keeps the order of runs that started in the same instant.
 *
 * @param array<int, array<string, mixed>> $runs
 */
function entra_wp_sync_sort_runs( &$runs ) {
	usort( $runs, fn( $a, $b ) => entra_wp_sync_run_started( $b ) <=> entra_wp_sync_run_started( $a ) );
}

function entra_wp_sync_run_record_bytes( $record ) {
	return strlen( (string) wp_json_encode( $record ) );
}

/**
 * Cuts a record down to ENTRA_WP_SYNC_RUN_RECORD_MAX_BYTES: first the error examples, then
 * the held lists beyond their first 20, then the error reasons beyond their first 5. What
 * was cut is said in the record's notes; the counts stay whole.
 *
 * @param array<string, mixed> $record A cleaned record.
 * @return array<string, mixed>
 */
function entra_wp_sync_bounded_run_record( $record ) {
	$record['notes'] = array();
	if ( entra_wp_sync_run_record_bytes( $record ) <= ENTRA_WP_SYNC_RUN_RECORD_MAX_BYTES ) {
		unset( $record['notes'] );
		return $record;
	}
	foreach ( array_keys( $record['errors'] ) as $index ) {
		$record['errors'][ $index ]['examples'] = array();
	}
	$record['notes'][] = __( 'The examples of each error were left out to keep this record small; the run’s results.csv lists every user.', 'entra-wp-sync' );
	if ( entra_wp_sync_run_record_bytes( $record ) > ENTRA_WP_SYNC_RUN_RECORD_MAX_BYTES && null !== $record['held'] ) {
		$record['held']['removals']  = array_slice( $record['held']['removals'], 0, 20 );
		$record['held']['adoptions'] = array_slice( $record['held']['adoptions'], 0, 20 );
		$record['notes'][]           = __( 'Only the first 20 users of each held list are kept here; the run’s summary lists them all.', 'entra-wp-sync' );
	}
	if ( entra_wp_sync_run_record_bytes( $record ) > ENTRA_WP_SYNC_RUN_RECORD_MAX_BYTES ) {
		$record['errors']  = array_slice( $record['errors'], 0, 5 );
		$record['notes'][] = __( 'Only the 5 most frequent error reasons are kept here; the run’s summary lists them all.', 'entra-wp-sync' );
	}
	return $record;
}

/**
 * The history with the record added: a record of the same job and run replaces the one
 * before it (the tool retries a post whose answer was lost), then each job keeps its
 * newest entra_wp_sync_run_history_size() and the oldest records go while the whole
 * history is over ENTRA_WP_SYNC_RUN_HISTORY_MAX_BYTES.
 *
 * @param array<string, array<int, array<string, mixed>>> $history
 * @param array<string, mixed>                             $record
 * @return array<string, array<int, array<string, mixed>>>
 */
function entra_wp_sync_history_with( $history, $record ) {
	$job   = $record['job'];
	$runs  = isset( $history[ $job ] ) && is_array( $history[ $job ] ) ? $history[ $job ] : array();
	$runs  = array_values( array_filter( $runs, fn( $kept ) => ( $kept['runId'] ?? null ) !== $record['runId'] ) );
	// First, so that of two runs started in the same instant the one that ended last leads.
	array_unshift( $runs, $record );
	entra_wp_sync_sort_runs( $runs );
	$history[ $job ] = array_slice( $runs, 0, entra_wp_sync_run_history_size() );
	ksort( $history );
	$bytes = strlen( maybe_serialize( $history ) );
	while ( $bytes > ENTRA_WP_SYNC_RUN_HISTORY_MAX_BYTES ) {
		$oldest_job = null;
		$oldest_at  = PHP_FLOAT_MAX;
		foreach ( $history as $name => $kept ) {
			$last = end( $kept );
			if ( count( $kept ) > 1 && false !== $last && entra_wp_sync_run_started( $last ) < $oldest_at ) {
				$oldest_job = $name;
				$oldest_at  = entra_wp_sync_run_started( $last );
			}
		}
		if ( null === $oldest_job ) {
			break;
		}
		array_pop( $history[ $oldest_job ] );
		$bytes = strlen( maybe_serialize( $history ) );
	}
	return $history;
}

/**
 * Adds the record to the history. Two runs of different jobs may finish at once: the
 * change is a compare-and-swap on the stored value, tried again when the other won.
 *
 * @param array<string, mixed> $record
 * @return bool Whether the record was stored.
 */
function entra_wp_sync_store_run_record( $record ) {
	$option = ENTRA_WP_SYNC_RUN_HISTORY_OPTION;
	for ( $attempt = 0; $attempt < 5; $attempt++ ) {
		$stored = entra_wp_sync_stored_option( $option );
		$before = null === $stored ? array() : maybe_unserialize( $stored );
		$value  = maybe_serialize( entra_wp_sync_history_with( is_array( $before ) ? $before : array(), $record ) );
		if ( null === $stored ) {
			if ( entra_wp_sync_add_option_once( $option, $value ) ) {
				return true;
			}
			continue;
		}
		if ( entra_wp_sync_swap_option( $option, $stored, $value ) ) {
			return true;
		}
	}
	return false;
}

/**
 * POST /entra-wp-sync/v1/runs: one job's record of one run.
 *
 * @return WP_REST_Response|WP_Error
 */
function entra_wp_sync_rest_post_run( WP_REST_Request $request ) {
	$given = $request->get_json_params();
	if ( ! is_array( $given ) ) {
		return new WP_Error( 'entra_wp_sync_bad_run_record', __( 'Send the run record as a JSON object.', 'entra-wp-sync' ), array( 'status' => 400 ) );
	}
	$record = entra_wp_sync_clean_run_record( $given );
	if ( is_wp_error( $record ) ) {
		return $record;
	}
	$record = entra_wp_sync_bounded_run_record( $record );
	if ( ! entra_wp_sync_store_run_record( $record ) ) {
		return new WP_Error( 'entra_wp_sync_run_history_busy', __( 'The run history changed while this record was stored; send it again.', 'entra-wp-sync' ), array( 'status' => 409 ) );
	}
	return new WP_REST_Response( $record, 201 );
}

/**
 * GET /entra-wp-sync/v1/runs?job=&per_page=&page=: records newest first, every job's
 * without job; X-WP-Total and X-WP-TotalPages as core's collections.
 *
 * @return WP_REST_Response
 */
function entra_wp_sync_rest_get_runs( WP_REST_Request $request ) {
	$history = entra_wp_sync_run_history();
	$job     = (string) $request['job'];
	if ( '' !== $job ) {
		$runs = isset( $history[ $job ] ) && is_array( $history[ $job ] ) ? $history[ $job ] : array();
	} else {
		$runs = array_merge( array(), ...array_values( $history ) );
		entra_wp_sync_sort_runs( $runs );
	}
	$per_page = (int) $request['per_page'];
	$page     = (int) $request['page'];
	$response = rest_ensure_response( array_slice( $runs, ( $page - 1 ) * $per_page, $per_page ) );
	$response->header( 'X-WP-Total', (string) count( $runs ) );
	$response->header( 'X-WP-TotalPages', (string) max( 1, (int) ceil( count( $runs ) / $per_page ) ) );
	return $response;
}

function entra_wp_sync_register_run_history_routes() {
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/runs',
		array(
			array(
				'methods'             => WP_REST_Server::READABLE,
				'callback'            => 'entra_wp_sync_rest_get_runs',
				'permission_callback' => 'entra_wp_sync_rest_can_read_runs',
				'args'                => array(
					'job'      => array(
						'type'        => 'string',
						'pattern'     => '^[a-z0-9][a-z0-9_-]{0,62}$',
						'description' => __( 'Name of the sync job; every job’s runs without it.', 'entra-wp-sync' ),
					),
					'per_page' => array(
						'type'    => 'integer',
						'minimum' => 1,
						'maximum' => 100,
						'default' => 10,
					),
					'page'     => array(
						'type'    => 'integer',
						'minimum' => 1,
						'default' => 1,
					),
				),
			),
			array(
				'methods'             => WP_REST_Server::CREATABLE,
				'callback'            => 'entra_wp_sync_rest_post_run',
				// Only the sync writes records: its whole set of capabilities, as for checkpoints.
				'permission_callback' => 'entra_wp_sync_rest_can_post_run',
			),
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_run_history_routes' );

/**
 * Writing a record takes what reading one does and the sync's capabilities: a record says
 * what the sync did, so only an account that may do it can claim it.
 *
 * @return true|WP_Error
 */
function entra_wp_sync_rest_can_post_run() {
	$allowed = entra_wp_sync_rest_can_read_runs();
	return true === $allowed ? entra_wp_sync_rest_can_manage_sync() : $allowed;
}
