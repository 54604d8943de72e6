<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 6. Checkpoints and the run lock, kept in the site
 *
 * So that a scheduled GitHub workflow needs no cache: each job's checkpoint is an
 * option (not autoloaded), and so is its run lock. The lock is a lease: it frees
 * itself ENTRA_WP_SYNC_LOCK_TTL seconds after its run last renewed it (with every
 * checkpoint saved, and from the run's heartbeat in between), so a run killed
 * outright blocks the next one only briefly. Every change to the lock is a single
 * conditional statement (an INSERT IGNORE for a free lock, a compare-and-swap on the
 * stored value otherwise): add_option() and update_option() read and write in two
 * steps, and of two runs racing for an expired lock both would get it.
 *
 * The users a cycle has seen (100,000 IDs on a big tenant) are kept apart from the
 * checkpoint, in their own option, one ID a line after a line with the cycle's ID and
 * their count: each save appends the IDs added since the last one, instead of
 * uploading the whole list.
 * -----------------------------------------------------------------------------
 */

define( 'ENTRA_WP_SYNC_LOCK_TTL', 2 * MINUTE_IN_SECONDS );

function entra_wp_sync_rest_can_manage_users() {
	if ( current_user_can( 'list_users' ) && current_user_can( 'edit_users' ) && current_user_can( 'create_users' ) ) {
		return true;
	}
	return new WP_Error(
		'rest_forbidden',
		__( 'Sorry, you are not allowed to manage the sync state.', 'entra-wp-sync' ),
		array( 'status' => is_user_logged_in() ? 403 : 401 )
	);
}

/**
 * The checkpoint and the lock steer runs that create, delete and promote users, so
 * changing them takes every capability such a run needs.
 *
 * @return true|WP_Error
 */
function entra_wp_sync_rest_can_manage_sync() {
	$allowed = entra_wp_sync_rest_can_manage_users();
	if ( true !== $allowed || ( current_user_can( 'delete_users' ) && current_user_can( 'promote_users' ) ) ) {
		return $allowed;
	}
	return new WP_Error(
		'rest_forbidden',
		__( 'Sorry, you are not allowed to manage the sync state.', 'entra-wp-sync' ),
		array( 'status' => 403 )
	);
}

function entra_wp_sync_state_option( $job ) {
	return 'entra_wp_sync_state_' . $job;
}

function entra_wp_sync_lock_option( $job ) {
	return 'entra_wp_sync_lock_' . $job;
}

function entra_wp_sync_seen_option( $job ) {
	return 'entra_wp_sync_seen_' . $job;
}

/**
 * An option's value exactly as the table holds it, past any cache: what a
 * compare-and-swap compares against.
 *
 * @return string|null Null when there is no such option.
 */
function entra_wp_sync_stored_option( $option ) {
	global $wpdb;
	return $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", $option ) );
}

/** After a change by SQL, the object cache must not answer get_option() with the old value. */
function entra_wp_sync_forget_cached_option( $option ) {
	wp_cache_delete( $option, 'options' );
	$not_options = wp_cache_get( 'notoptions', 'options' );
	if ( is_array( $not_options ) && isset( $not_options[ $option ] ) ) {
		unset( $not_options[ $option ] );
		wp_cache_set( 'notoptions', $not_options, 'options' );
	}
}

/**
 * Adds an option (not autoloaded) only if no one has it yet: of callers racing to add
 * it, exactly one does.
 *
 * @return bool Whether the option now holds $value because of this call.
 */
function entra_wp_sync_add_option_once( $option, $value ) {
	global $wpdb;
	$inserted = $wpdb->query(
		$wpdb->prepare(
			"INSERT IGNORE INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no')",
			$option,
			$value
		)
	);
	entra_wp_sync_forget_cached_option( $option );
	return 1 === $inserted;
}

/**
 * Replaces an option's value only if it still is $expected, byte for byte.
 *
 * @return bool Whether the option now holds $value because of this call.
 */
function entra_wp_sync_swap_option( $option, $expected, $value ) {
	global $wpdb;
	if ( $expected === $value ) {
		// MariaDB counts an update to the same value as no row changed.
		return true;
	}
	$changed = $wpdb->query(
		$wpdb->prepare(
			"UPDATE {$wpdb->options} SET option_value = %s WHERE option_name = %s AND BINARY option_value = %s",
			$value,
			$option,
			$expected
		)
	);
	entra_wp_sync_forget_cached_option( $option );
	return 1 === $changed;
}

/**
 * The lock a stored value describes.
 *
 * @return array<string, mixed>|null Null for a value that is no lock (then anyone may take it).
 */
function entra_wp_sync_lock_from( $stored ) {
	$lock = null === $stored ? null : maybe_unserialize( $stored );
	return is_array( $lock ) && isset( $lock['runId'], $lock['expiresAt'] ) ? $lock : null;
}

/**
 * Takes the job's lock for a run, renews it for the run that holds it, or takes over a
 * lease that ran out. Of runs racing for the lock, exactly one gets it.
 *
 * @param array<string, mixed> $lock The lock to store, with its expiry.
 * @return array{acquired: bool, holder: array<string, mixed>|null}
 */
function entra_wp_sync_acquire_lock( $job, $lock ) {
	$option = entra_wp_sync_lock_option( $job );
	$value  = maybe_serialize( $lock );
	for ( $attempt = 0; $attempt < 3; $attempt++ ) {
		$stored = entra_wp_sync_stored_option( $option );
		if ( null === $stored ) {
			if ( entra_wp_sync_add_option_once( $option, $value ) ) {
				return array( 'acquired' => true, 'holder' => $lock );
			}
			continue;
		}
		$holder = entra_wp_sync_lock_from( $stored );
		if ( null !== $holder && $holder['runId'] !== $lock['runId'] && (int) $holder['expiresAt'] > time() ) {
			return array( 'acquired' => false, 'holder' => $holder );
		}
		if ( entra_wp_sync_swap_option( $option, $stored, $value ) ) {
			return array( 'acquired' => true, 'holder' => $lock );
		}
	}
	// Lost every race: whoever won holds it now.
	return array( 'acquired' => false, 'holder' => entra_wp_sync_lock_from( entra_wp_sync_stored_option( $option ) ) );
}

/** Moves the lease of the run that holds the lock on; a lock held by anyone else is left alone. */
function entra_wp_sync_extend_lock( $job, $run_id ) {
	$option = entra_wp_sync_lock_option( $job );
	$stored = entra_wp_sync_stored_option( $option );
	$lock   = entra_wp_sync_lock_from( $stored );
	if ( '' !== $run_id && null !== $lock && $lock['runId'] === $run_id ) {
		$lock['expiresAt'] = time() + ENTRA_WP_SYNC_LOCK_TTL;
		entra_wp_sync_swap_option( $option, $stored, maybe_serialize( $lock ) );
	}
}

/**
 * Seen IDs go one a line; anything else keeps the list in the checkpoint.
 *
 * @param mixed $ids
 */
function entra_wp_sync_are_seen_ids( $ids ) {
	if ( ! is_array( $ids ) || ! array_is_list( $ids ) ) {
		return false;
	}
	foreach ( $ids as $id ) {
		if ( ! is_string( $id ) || '' === $id || strlen( $id ) > 100 || strpbrk( $id, "\r\n" ) !== false ) {
			return false;
		}
	}
	return true;
}

/**
 * The first line of the job's seen list: the cycle's ID and how many IDs follow. An append
 * compares it and rewrites it in the same statement; counting the lines of 4 MB in SQL
 * would take seconds.
 */
function entra_wp_sync_seen_header( $cycle_id, $count ) {
	return $cycle_id . ' ' . $count;
}

/** Replaces the job's seen list: its first line, then one ID a line. */
function entra_wp_sync_write_seen( $job, $cycle_id, $ids ) {
	global $wpdb;
	$option = entra_wp_sync_seen_option( $job );
	$text   = entra_wp_sync_seen_header( $cycle_id, count( $ids ) ) . "\n" . ( $ids ? implode( "\n", $ids ) . "\n" : '' );
	$wpdb->query(
		$wpdb->prepare(
			"INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)",
			$option,
			$text
		)
	);
	entra_wp_sync_forget_cached_option( $option );
}

/**
 * Appends IDs to the job's seen list in one statement, only if the list is of this cycle
 * and holds exactly $base IDs: anything else (a save retried after its answer was lost,
 * a run killed between its two writes, another run's cycle) must not be continued.
 */
function entra_wp_sync_append_seen( $job, $cycle_id, $base, $ids ) {
	global $wpdb;
	$option = entra_wp_sync_seen_option( $job );
	$header = entra_wp_sync_seen_header( $cycle_id, $base );
	if ( ! $ids ) {
		$first = $wpdb->get_var( $wpdb->prepare( "SELECT SUBSTRING_INDEX(option_value, '\n', 1) FROM {$wpdb->options} WHERE option_name = %s", $option ) );
		return $header === $first;
	}
	$changed = $wpdb->query(
		$wpdb->prepare(
			"UPDATE {$wpdb->options} SET option_value = CONCAT(%s, SUBSTRING(option_value, CHAR_LENGTH(%s) + 1), %s) WHERE option_name = %s AND BINARY SUBSTRING_INDEX(option_value, '\n', 1) = %s",
			entra_wp_sync_seen_header( $cycle_id, $base + count( $ids ) ),
			$header,
			implode( "\n", $ids ) . "\n",
			$option,
			$header
		)
	);
	entra_wp_sync_forget_cached_option( $option );
	return 1 === $changed;
}

/**
 * The first $count IDs of the job's seen list for this cycle.
 *
 * @return string[]|null Null when the list is of another cycle or shorter.
 */
function entra_wp_sync_read_seen( $job, $cycle_id, $count ) {
	if ( 0 === $count ) {
		return array();
	}
	$stored = entra_wp_sync_stored_option( entra_wp_sync_seen_option( $job ) );
	$lines  = null === $stored ? array() : explode( "\n", $stored );
	$header = $lines[0] ?? '';
	$space  = strrpos( $header, ' ' );
	$held   = false === $space ? -1 : (int) substr( $header, $space + 1 );
	// The first line, the IDs it counts, and the empty string after the last newline. A run
	// killed after appending but before saving its checkpoint leaves more than that counts.
	if ( false === $space || substr( $header, 0, $space ) !== $cycle_id || $held < $count || count( $lines ) !== $held + 2 ) {
		return null;
	}
	return array_slice( $lines, 1, $count );
}

function entra_wp_sync_rest_get_state( WP_REST_Request $request ) {
	$job   = $request['job'];
	$value = get_option( entra_wp_sync_state_option( $job ), null );
	if ( null === $value ) {
		return rest_ensure_response( array( 'checkpoint' => null ) );
	}
	$checkpoint = json_decode( $value, true );
	if ( ! is_array( $checkpoint ) || isset( $checkpoint['seen'] ) || ! isset( $checkpoint['seenCount'] ) || ! is_int( $checkpoint['seenCount'] ) ) {
		return rest_ensure_response( array( 'checkpoint' => $checkpoint ) );
	}
	$count = $checkpoint['seenCount'];
	unset( $checkpoint['seenCount'] );
	$seen = entra_wp_sync_read_seen( $job, (string) ( $checkpoint['cycleId'] ?? '' ), $count );
	if ( null !== $seen ) {
		$checkpoint['seen'] = $seen;
	}
	// Without `seen` the tool reports the checkpoint as damaged, with this count.
	return rest_ensure_response(
		array(
			'checkpoint' => $checkpoint,
			'seenCount'  => $count,
		)
	);
}

/**
 * Saves a checkpoint. Its seen list goes to its own option: whole when the checkpoint
 * carries it, or as the IDs to append when the request has seenAppend. The checkpoint
 * counts the IDs, and is written after them when it counts any, before them when it
 * counts none: either way a request cut short leaves a checkpoint whose IDs are there.
 *
 * @param array<string, mixed> $checkpoint
 * @return array<string, int>|WP_Error How many IDs the site holds for the cycle.
 */
function entra_wp_sync_save_checkpoint( $job, $checkpoint, $seen_append, $seen_count ) {
	$option   = entra_wp_sync_state_option( $job );
	$cycle_id = isset( $checkpoint['cycleId'] ) && is_string( $checkpoint['cycleId'] ) ? $checkpoint['cycleId'] : '';
	$is_cycle = '' !== $cycle_id && strpbrk( $cycle_id, "\r\n" ) === false;
	if ( null !== $seen_append ) {
		$base = is_int( $seen_count ) ? $seen_count - count( $seen_append ) : -1;
		if ( ! $is_cycle || ! entra_wp_sync_are_seen_ids( $seen_append ) || $base < 0 ) {
			return new WP_Error( 'entra_wp_sync_bad_checkpoint', __( 'seenAppend needs seenCount, the cycleId and one ID per item.', 'entra-wp-sync' ), array( 'status' => 400 ) );
		}
		if ( ! entra_wp_sync_append_seen( $job, $cycle_id, $base, $seen_append ) ) {
			return new WP_Error(
				'entra_wp_sync_seen_mismatch',
				__( 'The saved list of seen users is not the one this save continues; send the whole list.', 'entra-wp-sync' ),
				array( 'status' => 409 )
			);
		}
		unset( $checkpoint['seen'] );
		$checkpoint['seenCount'] = $seen_count;
		update_option( $option, wp_json_encode( $checkpoint ), false );
		return array( 'seenCount' => $seen_count );
	}
	if ( ! $is_cycle || ! isset( $checkpoint['seen'] ) || ! entra_wp_sync_are_seen_ids( $checkpoint['seen'] ) ) {
		unset( $checkpoint['seenCount'] );
		update_option( $option, wp_json_encode( $checkpoint ), false );
		return array();
	}
	$seen = $checkpoint['seen'];
	unset( $checkpoint['seen'] );
	$checkpoint['seenCount'] = count( $seen );
	if ( $seen ) {
		entra_wp_sync_write_seen( $job, $cycle_id, $seen );
	}
	update_option( $option, wp_json_encode( $checkpoint ), false );
	if ( ! $seen ) {
		entra_wp_sync_write_seen( $job, $cycle_id, $seen );
	}
	return array( 'seenCount' => count( $seen ) );
}

function entra_wp_sync_rest_put_state( WP_REST_Request $request ) {
	$job        = $request['job'];
	$checkpoint = $request->get_param( 'checkpoint' );
	$run_id     = (string) $request->get_param( 'runId' );
	if ( ! is_array( $checkpoint ) ) {
		return new WP_Error( 'entra_wp_sync_bad_checkpoint', __( 'checkpoint must be an object', 'entra-wp-sync' ), array( 'status' => 400 ) );
	}
	// A run whose lease ran out and was taken over must not overwrite the new holder's checkpoint.
	$holder = entra_wp_sync_lock_from( entra_wp_sync_stored_option( entra_wp_sync_lock_option( $job ) ) );
	if ( '' !== $run_id && null !== $holder && $holder['runId'] !== $run_id ) {
		return new WP_Error(
			'entra_wp_sync_lock_lost',
			__( 'Another run holds this job now; this run may not save its checkpoint.', 'entra-wp-sync' ),
			array(
				'status' => 409,
				'holder' => $holder,
			)
		);
	}
	$saved = entra_wp_sync_save_checkpoint( $job, $checkpoint, $request->get_param( 'seenAppend' ), $request->get_param( 'seenCount' ) );
	if ( is_wp_error( $saved ) ) {
		return $saved;
	}
	entra_wp_sync_extend_lock( $job, $run_id );
	return rest_ensure_response( array( 'saved' => true ) + $saved );
}

function entra_wp_sync_rest_delete_state( WP_REST_Request $request ) {
	delete_option( entra_wp_sync_state_option( $request['job'] ) );
	delete_option( entra_wp_sync_seen_option( $request['job'] ) );
	return rest_ensure_response( array( 'deleted' => true ) );
}

/** Takes or renews the lock (POST, also the run's heartbeat). */
function entra_wp_sync_rest_take_lock( WP_REST_Request $request ) {
	$lock = array(
		'runId'     => (string) $request->get_param( 'runId' ),
		'pid'       => (int) $request->get_param( 'pid' ),
		'host'      => (string) $request->get_param( 'host' ),
		'startedAt' => (string) $request->get_param( 'startedAt' ),
		'runUrl'    => (string) $request->get_param( 'runUrl' ),
		'expiresAt' => time() + ENTRA_WP_SYNC_LOCK_TTL,
	);
	if ( '' === $lock['runId'] ) {
		return new WP_Error( 'entra_wp_sync_bad_lock', __( 'runId is required', 'entra-wp-sync' ), array( 'status' => 400 ) );
	}
	$outcome = entra_wp_sync_acquire_lock( $request['job'], $lock );
	if ( $outcome['acquired'] ) {
		return rest_ensure_response(
			array(
				'acquired' => true,
				'lock'     => $lock,
			)
		);
	}
	return new WP_REST_Response(
		array(
			'acquired' => false,
			'holder'   => $outcome['holder'],
		),
		409
	);
}

/**
 * Releases the lock: the run's own (runId), or whoever holds it (force, for
 * `entra-wp-sync state unlock` after a run that is gone).
 */
function entra_wp_sync_rest_release_lock( WP_REST_Request $request ) {
	global $wpdb;
	$option = entra_wp_sync_lock_option( $request['job'] );
	$force  = true === $request->get_param( 'force' );
	$run_id = (string) $request->get_param( 'runId' );
	if ( ! $force && '' === $run_id ) {
		return new WP_Error( 'entra_wp_sync_bad_lock', __( 'runId or force is required', 'entra-wp-sync' ), array( 'status' => 400 ) );
	}
	for ( $attempt = 0; $attempt < 3; $attempt++ ) {
		$stored = entra_wp_sync_stored_option( $option );
		$holder = entra_wp_sync_lock_from( $stored );
		if ( null === $stored || ( ! $force && ( null === $holder || $holder['runId'] !== $run_id ) ) ) {
			return rest_ensure_response(
				array(
					'released' => false,
					'holder'   => $force ? null : $holder,
				)
			);
		}
		// Only the lock just read: one taken over in between is not this request's to remove.
		$deleted = $wpdb->query( $wpdb->prepare( "DELETE FROM {$wpdb->options} WHERE option_name = %s AND BINARY option_value = %s", $option, $stored ) );
		entra_wp_sync_forget_cached_option( $option );
		if ( 1 === $deleted ) {
			return rest_ensure_response(
				array(
					'released' => true,
					'holder'   => $holder,
				)
			);
		}
	}
	return new WP_Error( 'entra_wp_sync_lock_busy', __( 'The lock kept changing; try again.', 'entra-wp-sync' ), array( 'status' => 409 ) );
}

/**
 * Arguments of the state and lock routes. None is required, so that callers who
 * may not use a route are told so rather than which argument they left out.
 *
 * @return array<string, array<string, mixed>>
 */
function entra_wp_sync_state_route_args() {
	$text = fn( $max_length, $description ) => array(
		'type'        => 'string',
		'maxLength'   => $max_length,
		'description' => $description,
	);
	return array(
		'job'        => $text( 63, __( 'Name of the sync job.', 'entra-wp-sync' ) ),
		'runId'      => $text( 200, __( 'Id of the run holding the lock.', 'entra-wp-sync' ) ),
		'pid'        => array(
			'type'        => 'integer',
			'minimum'     => 0,
			'description' => __( 'Process id of the run on its machine.', 'entra-wp-sync' ),
		),
		'host'       => $text( 255, __( 'Machine the run is on.', 'entra-wp-sync' ) ),
		'startedAt'  => $text( 64, __( 'When the run started.', 'entra-wp-sync' ) ),
		'runUrl'     => array(
			'type'        => 'string',
			'format'      => 'uri',
			'maxLength'   => 500,
			'description' => __( 'Page of the GitHub Actions run holding the lock.', 'entra-wp-sync' ),
		),
		'force'      => array(
			'type'        => 'boolean',
			'description' => __( 'Release the lock whoever holds it.', 'entra-wp-sync' ),
		),
		'checkpoint' => array(
			'type'        => 'object',
			'description' => __( 'Checkpoint of the job, saved as it is sent.', 'entra-wp-sync' ),
		),
		'seenAppend' => array(
			'type'        => 'array',
			'items'       => $text( 100, __( 'Entra object ID.', 'entra-wp-sync' ) ),
			'description' => __( 'Users seen since the last save of the same cycle, appended to the saved ones.', 'entra-wp-sync' ),
		),
		'seenCount'  => array(
			'type'        => 'integer',
			'minimum'     => 0,
			'description' => __( 'How many users the cycle has seen with this save.', 'entra-wp-sync' ),
		),
	);
}

/**
 * @param string[] $names Arguments the route takes.
 */
function entra_wp_sync_state_route( $methods, $callback, $names ) {
	return array(
		'methods'             => $methods,
		'callback'            => $callback,
		'permission_callback' => 'entra_wp_sync_rest_can_manage_sync',
		'args'                => array_intersect_key( entra_wp_sync_state_route_args(), array_flip( $names ) ),
	);
}

function entra_wp_sync_register_state_routes() {
	$job = '(?P<job>[a-z0-9][a-z0-9_-]{0,62})';
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/state/' . $job,
		array(
			entra_wp_sync_state_route( WP_REST_Server::READABLE, 'entra_wp_sync_rest_get_state', array( 'job' ) ),
			entra_wp_sync_state_route( 'PUT', 'entra_wp_sync_rest_put_state', array( 'job', 'checkpoint', 'runId', 'seenAppend', 'seenCount' ) ),
			entra_wp_sync_state_route( WP_REST_Server::DELETABLE, 'entra_wp_sync_rest_delete_state', array( 'job' ) ),
		)
	);
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/lock/' . $job,
		array(
			entra_wp_sync_state_route( WP_REST_Server::CREATABLE, 'entra_wp_sync_rest_take_lock', array( 'job', 'runId', 'pid', 'host', 'startedAt', 'runUrl' ) ),
			entra_wp_sync_state_route( WP_REST_Server::DELETABLE, 'entra_wp_sync_rest_release_lock', array( 'job', 'runId', 'force' ) ),
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_state_routes' );
