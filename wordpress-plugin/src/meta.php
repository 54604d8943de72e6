<?php

defined( 'ABSPATH' ) || exit;

/*
 * -----------------------------------------------------------------------------
 * 2. User meta registered for REST
 *
 * Readable and writable through /wp/v2/users only by users who may edit that user
 * (edit_users / edit_user); the keys that decide roles also need promote_users.
 * Every key is in the edit context only: the view context of /wp/v2/users is
 * public for anyone with a published post. Keys must match src/model/meta-keys.ts.
 * -----------------------------------------------------------------------------
 */

/**
 * show_in_rest arguments for a key: its schema, shown in the edit context only.
 *
 * @param array<string, mixed> $schema The key's type, items or enum.
 * @return array{schema: array<string, mixed>}
 */
function entra_wp_sync_edit_only_rest( $schema = array() ) {
	return array( 'schema' => array_merge( $schema, array( 'context' => array( 'edit' ) ) ) );
}

/**
 * Meta definitions: key => register_meta() arguments specific to that key.
 *
 * @return array<string, array<string, mixed>>
 */
function entra_wp_sync_user_meta_definitions() {
	$string_array = entra_wp_sync_edit_only_rest(
		array(
			'type'  => 'array',
			'items' => array( 'type' => 'string' ),
		)
	);

	return array(
		// Entra object id (GUID) of the person this account belongs to.
		'entra_wp_sync_object_id'     => array(
			'type'         => 'string',
			'description'  => 'Microsoft Entra object id of the synced user.',
			'default'      => '',
			'show_in_rest' => entra_wp_sync_edit_only_rest(),
		),
		// Names of the sync jobs that manage this account.
		'entra_wp_sync_jobs'          => array(
			'type'         => 'array',
			'description'  => 'Sync jobs managing this user.',
			'default'      => array(),
			'show_in_rest' => $string_array,
		),
		// 'active' or 'disabled' (disabled accounts are blocked from signing in).
		'entra_wp_sync_status'        => array(
			'type'         => 'string',
			'description'  => 'Sync status of the user: active or disabled.',
			// No 'default': register_meta() refuses a default outside the enum ('' when unset).
			'show_in_rest' => entra_wp_sync_edit_only_rest(
				array(
					'type' => 'string',
					'enum' => array( 'active', 'disabled' ),
				)
			),
		),
		// Media library attachment holding the synced Entra photo (0: none).
		'entra_wp_sync_avatar_id'     => array(
			'type'         => 'integer',
			'description'  => 'Attachment id of the synced Entra profile photo.',
			'default'      => 0,
			'show_in_rest' => entra_wp_sync_edit_only_rest(),
		),
		// @odata.mediaEtag of the photo that attachment holds, to upload only changes.
		'entra_wp_sync_photo_etag'    => array(
			'type'         => 'string',
			'description'  => 'Entra photo version the avatar was made from.',
			'default'      => '',
			'show_in_rest' => entra_wp_sync_edit_only_rest(),
		),
		// Roles to give back when a disabled account is enabled again.
		'entra_wp_sync_restore_roles' => array(
			'type'         => 'array',
			'description'  => 'Roles to restore when the user is enabled again.',
			'default'      => array(),
			'show_in_rest' => $string_array,
		),
		// "job:field" per WordPress field a job sets, so the profile screen can mark them.
		'entra_wp_sync_managed_fields' => array(
			'type'         => 'array',
			'description'  => 'Fields of this user each sync job sets (job:field).',
			'default'      => array(),
			'show_in_rest' => $string_array,
		),
	);
}

/**
 * Keys that decide which roles an account gets: restore roles are given back on
 * enabling, and the status triggers that. Writing them is promoting the user.
 *
 * @return string[]
 */
function entra_wp_sync_role_meta_keys() {
	return array( 'entra_wp_sync_restore_roles', 'entra_wp_sync_status' );
}

/**
 * Only someone who may edit the user may read or write the tool's meta, and only
 * someone who may also promote users may write the keys that lead to roles.
 *
 * @param bool   $allowed   Whether the user can edit the meta key (ignored).
 * @param string $meta_key  The meta key.
 * @param int    $object_id The user the meta belongs to.
 * @return bool
 */
function entra_wp_sync_can_edit_user_meta( $allowed, $meta_key, $object_id ) {
	if ( ! current_user_can( 'edit_users' ) ) {
		return false;
	}
	if ( in_array( $meta_key, entra_wp_sync_role_meta_keys(), true ) && ! current_user_can( 'promote_users' ) ) {
		return false;
	}
	return $object_id ? current_user_can( 'edit_user', (int) $object_id ) : true;
}

function entra_wp_sync_register_user_meta() {
	foreach ( entra_wp_sync_user_meta_definitions() as $key => $args ) {
		register_meta(
			'user',
			$key,
			array_merge(
				array(
					'single'        => true,
					'auth_callback' => 'entra_wp_sync_can_edit_user_meta',
				),
				$args
			)
		);
	}
}
add_action( 'init', 'entra_wp_sync_register_user_meta' );

/*
 * -----------------------------------------------------------------------------
 * 2b. Custom meta the site allows the sync to write
 *
 * The site decides which extra meta keys mapped from Entra may be written: the
 * option entra_wp_sync_allowed_meta_keys (an array of keys) and the filter of the
 * same name. Keys that could change what a user may do or hide internal state are
 * refused whatever the option says: "_"-prefixed keys, capabilities, user levels,
 * session tokens, the sync's own markers and WordPress's own profile keys. Like the
 * sync's own keys, they are shown in the edit context only.
 * -----------------------------------------------------------------------------
 */

function entra_wp_sync_meta_key_allowed( $key ) {
	global $wpdb;
	if ( ! is_string( $key ) || ! preg_match( '/^[A-Za-z0-9][A-Za-z0-9_-]*$/', $key ) ) {
		return false;
	}
	$lower = strtolower( $key );
	$core  = array( 'first_name', 'last_name', 'nickname', 'description', 'locale', 'rich_editing', 'syntax_highlighting', 'comment_shortcuts', 'admin_color', 'use_ssl', 'show_admin_bar_front', 'dismissed_wp_pointers', 'default_password_nag', 'session_tokens' );
	if ( in_array( $lower, $core, true ) ) {
		return false;
	}
	foreach ( array( 'capabilities', 'user_level', 'user-settings', 'user-settings-time' ) as $suffix ) {
		if ( str_ends_with( $lower, $suffix ) ) {
			return false;
		}
	}
	return ! str_starts_with( $lower, 'entra_wp_sync_' ) && ! str_starts_with( $lower, strtolower( $wpdb->get_blog_prefix() ) );
}

/**
 * @return string[]
 */
function entra_wp_sync_allowed_meta_keys() {
	$keys = get_option( 'entra_wp_sync_allowed_meta_keys', array() );
	$keys = apply_filters( 'entra_wp_sync_allowed_meta_keys', is_array( $keys ) ? $keys : array() );
	return array_values( array_unique( array_filter( (array) $keys, 'entra_wp_sync_meta_key_allowed' ) ) );
}

function entra_wp_sync_register_custom_meta() {
	foreach ( entra_wp_sync_allowed_meta_keys() as $key ) {
		register_meta(
			'user',
			$key,
			array(
				'type'          => 'string',
				'single'        => true,
				'default'       => '',
				'show_in_rest'  => entra_wp_sync_edit_only_rest(),
				'auth_callback' => 'entra_wp_sync_can_edit_user_meta',
			)
		);
	}
}
add_action( 'init', 'entra_wp_sync_register_custom_meta', 20 );

/**
 * Roles of the site and whether each is privileged (can manage options or promote
 * users), so the sync can refuse rules that would grant them.
 *
 * @return array<int, array{slug: string, name: string, privileged: bool}>
 */
function entra_wp_sync_role_summary() {
	$roles = array();
	foreach ( wp_roles()->roles as $slug => $role ) {
		$caps    = isset( $role['capabilities'] ) ? $role['capabilities'] : array();
		$roles[] = array(
			'slug'       => $slug,
			'name'       => $role['name'],
			'privileged' => ! empty( $caps['manage_options'] ) || ! empty( $caps['promote_users'] ),
		);
	}
	return $roles;
}

/*
 * -----------------------------------------------------------------------------
 * 2c. The Entra object ID under the keys a sign-in plugin looks users up by
 *
 * A person the sync creates should sign in with SSO into that same account, so the
 * sync also writes the object ID under the key the site's SSO plugin reads (WPO365:
 * aadObjectId). The keys are the job's, not the site's, so they cannot be registered
 * as meta up front; the REST field entra_wp_sync_object_id_keys (key => object ID)
 * takes them instead, and only as the sync's own marker: from a request of the sync
 * (X-Entra-WP-Sync) by someone who may promote and edit that user, for keys that pass
 * the same rule as custom meta (never capabilities, session tokens, "_" or core keys),
 * with the value the account already carries as entra_wp_sync_object_id (written
 * before additional fields in the same request), and never over another object ID.
 * It is write-only: the sync reads the values back through entra_wp_sync_identity.
 * -----------------------------------------------------------------------------
 */

define( 'ENTRA_WP_SYNC_OBJECT_ID_KEYS_FIELD', 'entra_wp_sync_object_id_keys' );

/**
 * Writes the account's own Entra object ID under the given keys, or says why not.
 *
 * @param mixed   $value   Key => object ID, as sent.
 * @param WP_User $user    The account being created or updated.
 * @return true|WP_Error
 */
function entra_wp_sync_write_object_id_keys( $value, $user ) {
	if ( ! ( $user instanceof WP_User ) || ! current_user_can( 'promote_users' ) || ! current_user_can( 'edit_user', $user->ID ) ) {
		return new WP_Error( 'rest_cannot_edit', __( 'Only an account that may promote and edit this user may set its Entra object ID keys.', 'entra-wp-sync' ), array( 'status' => rest_authorization_required_code() ) );
	}
	if ( empty( $_SERVER['HTTP_X_ENTRA_WP_SYNC'] ) ) {
		return new WP_Error( 'entra_wp_sync_not_sync', __( 'Entra object ID keys are written by the Entra sync only.', 'entra-wp-sync' ), array( 'status' => 403 ) );
	}
	if ( ! is_array( $value ) ) {
		return new WP_Error( 'rest_invalid_param', __( 'Entra object ID keys must be an object of meta key => object ID.', 'entra-wp-sync' ), array( 'status' => 400 ) );
	}
	$object_id = strtolower( (string) get_user_meta( $user->ID, 'entra_wp_sync_object_id', true ) );
	foreach ( $value as $key => $id ) {
		$key = (string) $key;
		if ( strlen( $key ) > 64 || ! entra_wp_sync_meta_key_allowed( $key ) ) {
			/* translators: %s: a user meta key. */
			return new WP_Error( 'rest_invalid_param', sprintf( __( 'The meta key %s cannot hold an Entra object ID: it is a WordPress or sync key.', 'entra-wp-sync' ), $key ), array( 'status' => 400 ) );
		}
		if ( '' === $object_id || ! is_string( $id ) || strtolower( $id ) !== $object_id ) {
			/* translators: %s: a user meta key. */
			return new WP_Error( 'rest_invalid_param', sprintf( __( 'The meta key %s may only hold the Entra object ID the account is synced with.', 'entra-wp-sync' ), $key ), array( 'status' => 400 ) );
		}
		$current = (string) get_user_meta( $user->ID, $key, true );
		if ( '' !== $current && strtolower( $current ) !== $object_id ) {
			/* translators: %s: a user meta key. */
			return new WP_Error( 'entra_wp_sync_object_id_key_taken', sprintf( __( 'The meta key %s already holds another value; it was left as it is.', 'entra-wp-sync' ), $key ), array( 'status' => 409 ) );
		}
	}
	foreach ( $value as $key => $id ) {
		update_user_meta( $user->ID, (string) $key, strtolower( (string) $id ) );
	}
	return true;
}

function entra_wp_sync_register_object_id_keys_field() {
	register_rest_field(
		'user',
		ENTRA_WP_SYNC_OBJECT_ID_KEYS_FIELD,
		array(
			'get_callback'    => null,
			'update_callback' => 'entra_wp_sync_write_object_id_keys',
			'schema'          => array(
				'description'          => __( 'Meta keys to store the Entra object ID under, for sign-in plugins (write-only).', 'entra-wp-sync' ),
				'type'                 => 'object',
				'context'              => array( 'edit' ),
				'additionalProperties' => array(
					'type'    => 'string',
					'pattern' => '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
				),
				'maxProperties'        => 10,
			),
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_object_id_keys_field' );
