<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 8. Cheaper user creation and deletion over REST
 *
 * wp_insert_user() writes a new user's ~16 meta rows with update_user_meta(). For
 * each row WordPress reads the user's whole meta again (the previous write cleared
 * the cache) and looks for an existing row before inserting: three statements
 * where one would do, about half of what creating a user costs MariaDB.
 *
 * Inside a REST request, a user wp_insert_user() has just added (and that has no
 * rows yet) is "fresh": the first write of each key goes straight to
 * add_metadata(), where update_metadata() ends up for a missing key anyway, and
 * the meta cache is refilled from the rows written so far instead of being read
 * back. The rows and the added/updated_user_meta hooks are the same; keys already
 * written, several rows under one key, deletions, object values and keys with a
 * sanitize filter (add_metadata() would run it a second time) take the normal path.
 * The window closes when the REST request (or batch item) that created the user
 * ends. Unlike core, update_user_meta() answers true rather than the new row's id
 * there, and get_user_metadata is not asked before those first writes.
 *
 * On a single site WordPress also recounts all users after every new or deleted
 * user (below 10,000 users); in a REST request that recount runs once, when the
 * request ends, so a batch of 25 counts once. (Multisite's network counts are
 * left as they are.)
 *
 * Since 6.8 WordPress hashes passwords with bcrypt at cost 10, about 60 ms a user on a
 * busy server: most of what a create costs. An account the sync creates gets a random
 * password of 24 bytes (192 bits) that is sent once and that nobody knows; its work
 * factor protects nothing, since no guess of a 192-bit secret ever succeeds, cost 10 or
 * cost 4. Such a create (a REST create carrying the sync's object-ID meta and a password
 * of at least 32 characters) is hashed with bcrypt at cost 4 instead; core's own checks
 * accept any bcrypt cost, and the password a person sets later is hashed as core does.
 *
 * A site where something relies on core's exact behaviour here switches all of it
 * off: define ENTRA_WP_SYNC_FAST_CREATION as false in wp-config.php, or return false
 * from the filter entra_wp_sync_fast_creation (the constant wins when defined).
 * -----------------------------------------------------------------------------
 */

/**
 * Whether this section replaces core's meta writes and recount.
 *
 * @return bool
 */
function entra_wp_sync_fast_creation_enabled() {
	if ( defined( 'ENTRA_WP_SYNC_FAST_CREATION' ) ) {
		return (bool) ENTRA_WP_SYNC_FAST_CREATION;
	}
	/**
	 * Filters whether new users' meta is written the cheaper way during REST requests.
	 *
	 * @param bool $enabled Default true.
	 */
	return (bool) apply_filters( 'entra_wp_sync_fast_creation', true );
}

/**
 * The fresh user: id and the meta rows written since it was added, as the meta
 * cache holds them (key => list of stored strings); null when there is none.
 */
$GLOBALS['entra_wp_sync_fresh_user'] = null;

function entra_wp_sync_forget_fresh_user() {
	$GLOBALS['entra_wp_sync_fresh_user'] = null;
}
/** Closes the window after each REST request and batch item, whatever route created the user. */
function entra_wp_sync_forget_fresh_user_after( $response ) {
	entra_wp_sync_forget_fresh_user();
	remove_filter( 'wp_hash_password_options', 'entra_wp_sync_throwaway_password_options', PHP_INT_MAX );
	return $response;
}

/** The bcrypt cost of an account the sync creates (4 is the least PHP accepts). */
define( 'ENTRA_WP_SYNC_THROWAWAY_PASSWORD_COST', 4 );

/**
 * Before a REST create inserts the user: whether it is the sync's, with the sync's random
 * password, whose hash then needs no work factor.
 *
 * @param stdClass        $prepared_user The user about to be inserted.
 * @param WP_REST_Request $request       The create request.
 * @return stdClass
 */
function entra_wp_sync_note_throwaway_password( $prepared_user, $request ) {
	$meta     = $request->get_param( 'meta' );
	$password = isset( $prepared_user->user_pass ) ? (string) $prepared_user->user_pass : '';
	if ( empty( $prepared_user->ID ) && is_array( $meta ) && ! empty( $meta['entra_wp_sync_object_id'] ) && strlen( $password ) >= 32 ) {
		add_filter( 'wp_hash_password_options', 'entra_wp_sync_throwaway_password_options', PHP_INT_MAX, 2 );
	}
	return $prepared_user;
}

/** Options for the one hash of that create: the filter takes itself away as it answers. */
function entra_wp_sync_throwaway_password_options( $options, $algorithm ) {
	remove_filter( 'wp_hash_password_options', 'entra_wp_sync_throwaway_password_options', PHP_INT_MAX );
	if ( PASSWORD_BCRYPT !== $algorithm ) {
		// A site that chose another algorithm (argon2) keeps its own options.
		return $options;
	}
	$options['cost'] = ENTRA_WP_SYNC_THROWAWAY_PASSWORD_COST;
	return $options;
}

function entra_wp_sync_is_fresh_user( $user_id ) {
	return null !== $GLOBALS['entra_wp_sync_fresh_user'] && (int) $user_id === $GLOBALS['entra_wp_sync_fresh_user']['id'];
}

/** A meta value as MariaDB gives it back, which is what the meta cache holds. */
function entra_wp_sync_stored_meta_value( $value ) {
	$value = maybe_serialize( $value );
	return null === $value ? null : (string) $value;
}

/** Opens the window for a user wp_insert_user() has just added, if it has no meta rows. */
function entra_wp_sync_track_fresh_user( $meta, $user, $update ) {
	global $wpdb;
	entra_wp_sync_forget_fresh_user();
	if ( $update || ! ( defined( 'REST_REQUEST' ) && REST_REQUEST ) || ! ( $user instanceof WP_User ) ) {
		return $meta;
	}
	// Rows left behind under this id (a restored database, a plugin writing with SQL)
	// belong to nobody: WordPress 6.8+ adds a new user's meta beside them, and reads
	// would then find the stale row first (an old first_name, an old role). A new
	// account starts with no meta, so they go before anything is written.
	$left_over = $wpdb->get_var( $wpdb->prepare( "SELECT umeta_id FROM {$wpdb->usermeta} WHERE user_id = %d LIMIT 1", $user->ID ) );
	if ( null !== $left_over ) {
		$wpdb->delete( $wpdb->usermeta, array( 'user_id' => (int) $user->ID ), array( '%d' ) );
	}
	$GLOBALS['entra_wp_sync_fresh_user'] = array(
		'id'   => (int) $user->ID,
		'meta' => array(),
	);
	wp_cache_set( $user->ID, array(), 'user_meta' );
	return $meta;
}

function entra_wp_sync_add_fresh_meta( $check, $object_id, $meta_key, $meta_value ) {
	if ( null !== $check || ! entra_wp_sync_is_fresh_user( $object_id ) || is_object( $meta_value )
		|| isset( $GLOBALS['entra_wp_sync_fresh_user']['meta'][ $meta_key ] )
		|| has_filter( "sanitize_user_meta_{$meta_key}" ) || has_filter( "sanitize_user_meta_{$meta_key}_for_user" ) ) {
		return $check;
	}
	// update_metadata() passed the key and value unslashed; add_metadata() unslashes again.
	return false !== add_metadata( 'user', $object_id, wp_slash( $meta_key ), wp_slash( $meta_value ) );
}

/** Rows added for the fresh user, by this plugin or anyone else, go into its cache. */
function entra_wp_sync_fresh_meta_added( $meta_id, $object_id, $meta_key, $meta_value ) {
	if ( entra_wp_sync_is_fresh_user( $object_id ) ) {
		$GLOBALS['entra_wp_sync_fresh_user']['meta'][ $meta_key ][] = entra_wp_sync_stored_meta_value( $meta_value );
		wp_cache_set( $object_id, $GLOBALS['entra_wp_sync_fresh_user']['meta'], 'user_meta' );
	}
}

/** An updated key with one row now holds the new value; anything else closes the window. */
function entra_wp_sync_fresh_meta_updated( $meta_id, $object_id, $meta_key, $meta_value ) {
	if ( ! entra_wp_sync_is_fresh_user( $object_id ) ) {
		return;
	}
	$rows = $GLOBALS['entra_wp_sync_fresh_user']['meta'][ $meta_key ] ?? array();
	if ( 1 !== count( $rows ) ) {
		entra_wp_sync_forget_fresh_user();
		return;
	}
	$GLOBALS['entra_wp_sync_fresh_user']['meta'][ $meta_key ] = array( entra_wp_sync_stored_meta_value( $meta_value ) );
	wp_cache_set( $object_id, $GLOBALS['entra_wp_sync_fresh_user']['meta'], 'user_meta' );
}

/** Any deletion of a key the fresh user has: delete_metadata() for all users passes id 0. */
function entra_wp_sync_fresh_meta_deleted( $meta_ids, $object_id, $meta_key ) {
	$fresh = $GLOBALS['entra_wp_sync_fresh_user'];
	if ( null !== $fresh && ( (int) $object_id === $fresh['id'] || isset( $fresh['meta'][ $meta_key ] ) ) ) {
		entra_wp_sync_forget_fresh_user();
	}
}

/** Moves WordPress's per-user recount to the end of REST requests. */
function entra_wp_sync_defer_user_count() {
	foreach ( array( 'user_register', 'deleted_user' ) as $action ) {
		if ( false !== has_action( $action, 'wp_maybe_update_user_counts' ) ) {
			remove_action( $action, 'wp_maybe_update_user_counts', 10 );
			add_action( $action, 'entra_wp_sync_count_users_at_end', 10, 0 );
		}
	}
}

function entra_wp_sync_count_users_at_end() {
	add_action( 'shutdown', 'wp_maybe_update_user_counts', 10, 0 );
}

/**
 * Hooks the section in, unless it is switched off. Asked at wp_loaded rather than when
 * this file loads, so that a must-use plugin loaded after this one, a plugin or the
 * theme can answer the filter; users are created over REST only after that.
 */
function entra_wp_sync_hook_fast_creation() {
	if ( ! entra_wp_sync_fast_creation_enabled() ) {
		return;
	}
	add_filter( 'rest_request_after_callbacks', 'entra_wp_sync_forget_fresh_user_after' );
	add_filter( 'rest_pre_insert_user', 'entra_wp_sync_note_throwaway_password', 10, 2 );
	add_filter( 'insert_user_meta', 'entra_wp_sync_track_fresh_user', PHP_INT_MAX, 3 );
	add_filter( 'update_user_metadata', 'entra_wp_sync_add_fresh_meta', PHP_INT_MAX, 4 );
	add_action( 'added_user_meta', 'entra_wp_sync_fresh_meta_added', 10, 4 );
	add_action( 'updated_user_meta', 'entra_wp_sync_fresh_meta_updated', 10, 4 );
	add_action( 'deleted_user_meta', 'entra_wp_sync_fresh_meta_deleted', 10, 3 );
	if ( did_action( 'rest_api_init' ) ) {
		// Something started the REST server before wp_loaded: move the recount now.
		entra_wp_sync_defer_user_count();
	} else {
		add_action( 'rest_api_init', 'entra_wp_sync_defer_user_count' );
	}
}
add_action( 'wp_loaded', 'entra_wp_sync_hook_fast_creation' );
