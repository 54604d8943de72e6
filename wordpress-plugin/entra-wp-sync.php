<?php
/**
 * Plugin Name:       Entra WP Sync companion
 * Description:       Companion must-use plugin for entra-wp-sync: registers the tool's user meta for REST and serves the entra-wp-sync/v1 REST namespace.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            entra-wp-sync
 * License:           MIT
 * Text Domain:       entra-wp-sync
 *
 * Install by copying this one file into wp-content/mu-plugins/.
 *
 * Loads on PHP 7.4 to 8.5 and runs on PHP 8.1 or newer. WordPress loads a must-use
 * plugin whatever its Requires PHP header says, so on an older PHP the plugin switches
 * itself off: it shows administrators a notice saying so and its info route reports
 * active: false, which makes entra-wp-sync refuse to sync the site.
 */

/*
 * Generated file: do not edit it here. The plugin is developed in wordpress-plugin/src/,
 * one file per concern; edit those and run `npm run build:plugin`
 * (scripts/build-plugin.ts), which joins them into this file. The tests and
 * `npm run check-dist` fail while the two differ.
 */

defined( 'ABSPATH' ) || exit;

if ( defined( 'ENTRA_WP_SYNC_VERSION' ) ) {
	// Loaded twice (e.g. copied into mu-plugins and plugins): keep the first copy.
	return;
}

define( 'ENTRA_WP_SYNC_VERSION', '0.1.0' );
define( 'ENTRA_WP_SYNC_REST_NAMESPACE', 'entra-wp-sync/v1' );
define( 'ENTRA_WP_SYNC_REQUIRES_PHP', '8.1' );

/*
 * Everything from here to the parts' require lines must parse and run on PHP 7.4: it is
 * what an older PHP runs before the plugin switches itself off. The parts' functions are
 * still compiled there (the shipped file has their code in place of the require lines),
 * so the parts keep to syntax PHP 7.4 parses too.
 */

/**
 * Permission for the plugin's read routes: the caller must be able to list users.
 *
 * @return true|WP_Error
 */
function entra_wp_sync_rest_can_list_users() {
	if ( current_user_can( 'list_users' ) ) {
		return true;
	}
	return new WP_Error(
		'entra_wp_sync_forbidden',
		__( 'Sorry, you are not allowed to use the entra-wp-sync API.', 'entra-wp-sync' ),
		array( 'status' => rest_authorization_required_code() )
	);
}

/**
 * Whether this PHP is too old for the plugin's parts.
 *
 * @return bool
 */
function entra_wp_sync_php_too_old() {
	return version_compare( PHP_VERSION, ENTRA_WP_SYNC_REQUIRES_PHP, '<' );
}

/**
 * Why the plugin is switched off, naming the PHP the site runs and the one it needs.
 *
 * @return string
 */
function entra_wp_sync_inactive_reason() {
	return sprintf(
		/* translators: 1: the PHP version the site runs, 2: the oldest PHP version the plugin runs on. */
		__( 'This site runs PHP %1$s; the Entra WP Sync companion plugin needs PHP %2$s or newer. Upgrade PHP to %2$s or newer.', 'entra-wp-sync' ),
		PHP_VERSION,
		ENTRA_WP_SYNC_REQUIRES_PHP
	);
}

/**
 * GET /entra-wp-sync/v1/info while switched off: the tool reads active: false and refuses
 * to sync instead of taking the site for one without the plugin.
 *
 * @return WP_REST_Response
 */
function entra_wp_sync_rest_info_inactive() {
	return rest_ensure_response(
		array(
			'version'     => ENTRA_WP_SYNC_VERSION,
			'active'      => false,
			'reason'      => entra_wp_sync_inactive_reason(),
			'php'         => PHP_VERSION,
			'requiresPhp' => ENTRA_WP_SYNC_REQUIRES_PHP,
		)
	);
}

function entra_wp_sync_register_inactive_rest_routes() {
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/info',
		array(
			'methods'             => WP_REST_Server::READABLE,
			'callback'            => 'entra_wp_sync_rest_info_inactive',
			'permission_callback' => 'entra_wp_sync_rest_can_list_users',
		)
	);
}

/**
 * Tells the people who can fix it that the plugin is off, and why.
 */
function entra_wp_sync_inactive_notice() {
	if ( ! current_user_can( 'activate_plugins' ) && ! current_user_can( 'manage_options' ) ) {
		return;
	}
	printf(
		'<div class="notice notice-error"><p><strong>%1$s</strong> %2$s %3$s</p></div>',
		esc_html__( 'Entra WP Sync companion is switched off.', 'entra-wp-sync' ),
		esc_html( entra_wp_sync_inactive_reason() ),
		esc_html__( 'Until then entra-wp-sync refuses to sync this site, and users it disabled are not kept from signing in.', 'entra-wp-sync' )
	);
}

if ( entra_wp_sync_php_too_old() ) {
	add_action( 'admin_notices', 'entra_wp_sync_inactive_notice' );
	add_action( 'network_admin_notices', 'entra_wp_sync_inactive_notice' );
	add_action( 'rest_api_init', 'entra_wp_sync_register_inactive_rest_routes' );
	// Before any part adds a hook: the parts need PHP 8.1 to run.
	return;
}

/*
 * -----------------------------------------------------------------------------
 * 1. Features
 *
 * The tool reads this list from GET /entra-wp-sync/v1/info to decide what it can
 * use; add a feature name here when its section below lands.
 * -----------------------------------------------------------------------------
 */

/**
 * Feature names this copy of the plugin offers.
 *
 * @return string[]
 */
function entra_wp_sync_features() {
	return array(
		'user-meta',
		'disabled-login-block',
		'custom-meta',
		'roles',
		'avatars',
		'state',
		'run-lock',
		'batch-users',
		'user-index',
		'user-lookup',
		'adoption-proof',
		'network-members',
		'run-history',
		'site-approvals',
		'object-id-keys',
		'quiet-emails',
	);
}

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

/*
 * -----------------------------------------------------------------------------
 * 3. REST namespace entra-wp-sync/v1
 * -----------------------------------------------------------------------------
 */

/*
 * The routes' permission, entra_wp_sync_rest_can_list_users(), is in the loader: the info
 * route answers with it on a PHP too old for the rest of the plugin too.
 */

/**
 * GET /entra-wp-sync/v1/info: plugin version and features.
 *
 * @return WP_REST_Response
 */
function entra_wp_sync_rest_info() {
	return rest_ensure_response(
		array(
			'version'          => ENTRA_WP_SYNC_VERSION,
			'active'           => true,
			'features'         => entra_wp_sync_features(),
			'allowedMetaKeys'  => entra_wp_sync_allowed_meta_keys(),
			'roles'            => entra_wp_sync_role_summary(),
			'network'          => entra_wp_sync_network_summary(),
		)
	);
}

function entra_wp_sync_register_rest_routes() {
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/info',
		array(
			'methods'             => WP_REST_Server::READABLE,
			'callback'            => 'entra_wp_sync_rest_info',
			'permission_callback' => 'entra_wp_sync_rest_can_list_users',
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_rest_routes' );

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

/*
 * -----------------------------------------------------------------------------
 * 5. The synced Entra photo is the user's avatar
 *
 * The tool uploads each photo to /wp/v2/media with the header
 * X-Entra-WP-Sync-Photo: 1, and the attachment is marked with the post meta
 * _entra_wp_sync_photo. Marked photos are kept out of the media routes and
 * attachment pages for anyone who may not list users (a photo is a face tied to a
 * person); the avatar keeps showing through its image URL. The mark is shown to the
 * tool in the edit context, so it deletes only photos it uploaded itself.
 * -----------------------------------------------------------------------------
 */

define( 'ENTRA_WP_SYNC_PHOTO_META', '_entra_wp_sync_photo' );

/** Whether the REST request is POST /wp/v2/media with the tool's photo header (the uploader's capability is checked when marking). */
$GLOBALS['entra_wp_sync_photo_upload'] = false;

function entra_wp_sync_note_photo_upload( $response, $handler, $request ) {
	$GLOBALS['entra_wp_sync_photo_upload'] = 'POST' === $request->get_method()
		&& '/wp/v2/media' === $request->get_route()
		&& '1' === $request->get_header( 'X-Entra-WP-Sync-Photo' );
	return $response;
}
add_filter( 'rest_request_before_callbacks', 'entra_wp_sync_note_photo_upload', 10, 3 );

function entra_wp_sync_forget_photo_upload( $response ) {
	$GLOBALS['entra_wp_sync_photo_upload'] = false;
	return $response;
}
add_filter( 'rest_request_after_callbacks', 'entra_wp_sync_forget_photo_upload' );

function entra_wp_sync_mark_photo( $attachment_id ) {
	if ( $GLOBALS['entra_wp_sync_photo_upload'] && current_user_can( 'edit_users' ) ) {
		update_post_meta( $attachment_id, ENTRA_WP_SYNC_PHOTO_META, 1 );
	}
}
add_action( 'add_attachment', 'entra_wp_sync_mark_photo' );

function entra_wp_sync_is_photo( $attachment_id ) {
	return (bool) get_post_meta( (int) $attachment_id, ENTRA_WP_SYNC_PHOTO_META, true );
}

/** Those who manage users see the photos; everyone else finds none. */
function entra_wp_sync_hides_photos() {
	return ! current_user_can( 'list_users' );
}

/** GET /wp/v2/media lists no photo to those it hides them from. */
function entra_wp_sync_exclude_photos_from_media( $args ) {
	if ( ! entra_wp_sync_hides_photos() ) {
		return $args;
	}
	$not_a_photo = array(
		'key'     => ENTRA_WP_SYNC_PHOTO_META,
		'compare' => 'NOT EXISTS',
	);
	// Nested, so a caller's own meta query keeps its relation.
	$args['meta_query'] = empty( $args['meta_query'] ) ? array( $not_a_photo ) : array( 'relation' => 'AND', $not_a_photo, $args['meta_query'] );
	return $args;
}
add_filter( 'rest_attachment_query', 'entra_wp_sync_exclude_photos_from_media' );

/** /wp/v2/media/{id} (and its sub-routes) answers for a photo as for a missing attachment. */
function entra_wp_sync_hide_photo_item( $response, $handler, $request ) {
	if ( is_wp_error( $response ) || ! preg_match( '#^/wp/v2/media/(\d+)(/|$)#', $request->get_route(), $matches ) ) {
		return $response;
	}
	if ( entra_wp_sync_is_photo( $matches[1] ) && entra_wp_sync_hides_photos() ) {
		// Core's own code and message, so the answer does not tell a photo from nothing.
		return new WP_Error( 'rest_post_invalid_id', __( 'Invalid post ID.' ), array( 'status' => 404 ) );
	}
	return $response;
}
add_filter( 'rest_request_before_callbacks', 'entra_wp_sync_hide_photo_item', 10, 3 );

/**
 * The attachment page of a photo is a 404 for those it is hidden from. It runs before
 * the canonical redirect, which would send ?attachment_id= to the photo's own address.
 */
function entra_wp_sync_hide_photo_page() {
	global $wp_query;
	if ( is_attachment() && entra_wp_sync_is_photo( get_queried_object_id() ) && entra_wp_sync_hides_photos() ) {
		$wp_query->set_404();
		status_header( 404 );
		nocache_headers();
		// On a 404, the canonical redirect looks the ?attachment_id= up again and redirects to it.
		add_filter( 'redirect_canonical', '__return_false' );
	}
}
add_action( 'template_redirect', 'entra_wp_sync_hide_photo_page', 1 );

function entra_wp_sync_photo_field( $attachment ) {
	return entra_wp_sync_is_photo( $attachment['id'] );
}

function entra_wp_sync_register_photo_field() {
	register_rest_field(
		'attachment',
		'entra_wp_sync_photo',
		array(
			'get_callback' => 'entra_wp_sync_photo_field',
			'schema'       => array(
				'description' => __( 'Whether entra-wp-sync uploaded this attachment as a user photo.', 'entra-wp-sync' ),
				'type'        => 'boolean',
				'context'     => array( 'edit' ),
				'readonly'    => true,
			),
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_photo_field' );

function entra_wp_sync_avatar_user_id( $id_or_email ) {
	if ( is_numeric( $id_or_email ) ) {
		return (int) $id_or_email;
	}
	if ( $id_or_email instanceof WP_User ) {
		return $id_or_email->ID;
	}
	if ( $id_or_email instanceof WP_Post ) {
		return (int) $id_or_email->post_author;
	}
	if ( $id_or_email instanceof WP_Comment ) {
		return (int) $id_or_email->user_id;
	}
	if ( is_string( $id_or_email ) && is_email( $id_or_email ) ) {
		$user = get_user_by( 'email', $id_or_email );
		return $user ? $user->ID : 0;
	}
	return 0;
}

function entra_wp_sync_avatar_data( $args, $id_or_email ) {
	$user_id = entra_wp_sync_avatar_user_id( $id_or_email );
	if ( ! $user_id ) {
		return $args;
	}
	$attachment = (int) get_user_meta( $user_id, 'entra_wp_sync_avatar_id', true );
	if ( ! $attachment ) {
		return $args;
	}
	$size = isset( $args['size'] ) ? (int) $args['size'] : 96;
	$url  = wp_get_attachment_image_url( $attachment, array( $size, $size ) );
	if ( $url ) {
		$args['url']          = $url;
		$args['found_avatar'] = true;
	}
	return $args;
}
add_filter( 'pre_get_avatar_data', 'entra_wp_sync_avatar_data', 10, 2 );

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

/*
 * -----------------------------------------------------------------------------
 * 7. Users routes in /batch/v1
 *
 * WordPress allows them in batches from 6.6; earlier versions (Debian's 6.1) need
 * this opt-in. Each request in a batch runs through the normal route with its own
 * permission checks.
 * -----------------------------------------------------------------------------
 */

function entra_wp_sync_batch_users_routes( $endpoints ) {
	foreach ( array( '/wp/v2/users', '/wp/v2/users/(?P<id>[\\d]+)' ) as $route ) {
		if ( ! isset( $endpoints[ $route ] ) ) {
			continue;
		}
		foreach ( $endpoints[ $route ] as $key => $handler ) {
			if ( is_array( $handler ) && isset( $handler['methods'] ) ) {
				$endpoints[ $route ][ $key ]['allow_batch'] = array( 'v1' => true );
			}
		}
	}
	return $endpoints;
}
add_filter( 'rest_endpoints', 'entra_wp_sync_batch_users_routes' );

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

/*
 * -----------------------------------------------------------------------------
 * 9. Compact user index and lookup
 *
 * /wp/v2/users builds a full response per user (links, avatar URLs, schema
 * filtering) and serves at most 100 per page: a 10,000-user index costs 100
 * requests. These routes return the same fields with the same values as
 * context=edit, up to 2,000 per page, and find users by object id, email or
 * login so a delta run never reads the whole index.
 * -----------------------------------------------------------------------------
 */

define( 'ENTRA_WP_SYNC_INDEX_MAX_PER_PAGE', 2000 );
define( 'ENTRA_WP_SYNC_LOOKUP_MAX_KEYS', 2000 );

/**
 * A user as GET /wp/v2/users/{id}?context=edit shows the fields the tool reads.
 */
function entra_wp_sync_compact_user( WP_User $user, WP_REST_User_Meta_Fields $meta_fields, WP_REST_Request $request, $id_keys ) {
	$compact = array(
		'id'          => $user->ID,
		'username'    => $user->user_login,
		'email'       => $user->user_email,
		'roles'       => array_values( $user->roles ),
		'first_name'  => $user->first_name,
		'last_name'   => $user->last_name,
		'name'        => $user->display_name,
		'nickname'    => $user->nickname,
		'description' => $user->description,
		'url'         => $user->user_url,
		'locale'      => get_user_locale( $user ),
		// Core's own meta serialisation, so values compare equal to /wp/v2/users.
		'meta'        => (object) $meta_fields->get_value( $user->ID, $request ),
		// As the REST field of the same name shows it on /wp/v2/users (section 10).
		'entra_wp_sync_identity' => entra_wp_sync_identity_of( $user, $id_keys ),
	);
	if ( is_multisite() ) {
		// Lookups find network users who are not members of this site yet (section 11).
		$compact['member']     = is_user_member_of_blog( $user->ID );
		$compact['superAdmin'] = is_super_admin( $user->ID );
	}
	return $compact;
}

/**
 * @param array    $args    WP_User_Query arguments over the defaults below.
 * @param string[] $id_keys Meta keys other tools keep Entra object IDs in (section 10).
 * @return array{0: array<int, array<string, mixed>>, 1: int}
 */
function entra_wp_sync_query_users( $args, $id_keys = array() ) {
	$query = new WP_User_Query(
		array_merge(
			array(
				'orderby'     => 'ID',
				'order'       => 'ASC',
				'fields'      => 'all_with_meta',
				'count_total' => true,
			),
			$args
		)
	);
	$meta_fields = new WP_REST_User_Meta_Fields();
	$request     = new WP_REST_Request( 'GET' );
	$request->set_param( 'context', 'edit' );
	$users = array();
	foreach ( $query->get_results() as $user ) {
		$users[] = entra_wp_sync_compact_user( $user, $meta_fields, $request, $id_keys );
	}
	return array( $users, (int) $query->get_total() );
}

/**
 * GET /entra-wp-sync/v1/users?page=&per_page=: every user, ordered by id, with
 * X-WP-Total and X-WP-TotalPages as core sends them.
 */
function entra_wp_sync_rest_user_index( WP_REST_Request $request ) {
	$per_page = (int) $request->get_param( 'per_page' );
	$page     = (int) $request->get_param( 'page' );
	list( $users, $total ) = entra_wp_sync_query_users(
		array(
			'number' => $per_page,
			'paged'  => $page,
		),
		entra_wp_sync_requested_id_keys( $request )
	);
	$response = rest_ensure_response( $users );
	$response->header( 'X-WP-Total', (string) $total );
	$response->header( 'X-WP-TotalPages', (string) max( 1, (int) ceil( $total / $per_page ) ) );
	return $response;
}

/**
 * @param string[] $values
 */
function entra_wp_sync_in_list( $values ) {
	global $wpdb;
	return implode( ',', array_map( fn( $value ) => $wpdb->prepare( '%s', $value ), $values ) );
}

/**
 * POST /entra-wp-sync/v1/users/lookup: the users matching any of the given
 * object ids, emails, logins or short logins (the login, or its part before
 * "@"), and how many users the given job manages (the base of safety.maxDeletes).
 */
function entra_wp_sync_rest_user_lookup( WP_REST_Request $request ) {
	global $wpdb;
	$object_ids   = $request->get_param( 'objectIds' );
	$emails       = $request->get_param( 'emails' );
	$logins       = $request->get_param( 'logins' );
	$short_logins = $request->get_param( 'shortLogins' );
	$job          = $request->get_param( 'job' );
	$id_keys      = entra_wp_sync_requested_id_keys( $request );

	// Email and login columns use a case-insensitive collation, as matching wants.
	$ids = array();
	if ( $object_ids ) {
		$ids = array_merge(
			$ids,
			$wpdb->get_col(
				// LEFT() keeps MariaDB off the longtext comparison path: twice as fast on 100,000 users.
				// Other tools' keys too: an account WPO365 linked is found by its object ID.
				"SELECT user_id FROM {$wpdb->usermeta} WHERE meta_key IN (" . entra_wp_sync_in_list( array_merge( array( 'entra_wp_sync_object_id' ), $id_keys ) )
				. ') AND LEFT(meta_value, 64) IN (' . entra_wp_sync_in_list( $object_ids ) . ')'
			)
		);
	}
	if ( $emails ) {
		$ids = array_merge( $ids, $wpdb->get_col( "SELECT ID FROM {$wpdb->users} WHERE user_email IN (" . entra_wp_sync_in_list( $emails ) . ')' ) );
	}
	if ( $logins ) {
		$ids = array_merge( $ids, $wpdb->get_col( "SELECT ID FROM {$wpdb->users} WHERE user_login IN (" . entra_wp_sync_in_list( $logins ) . ')' ) );
	}
	if ( $short_logins ) {
		$conditions = array( 'user_login IN (' . entra_wp_sync_in_list( $short_logins ) . ')' );
		foreach ( $short_logins as $short ) {
			$conditions[] = $wpdb->prepare( 'user_login LIKE %s', $wpdb->esc_like( $short ) . '@%' );
		}
		$ids = array_merge( $ids, $wpdb->get_col( "SELECT ID FROM {$wpdb->users} WHERE " . implode( ' OR ', $conditions ) ) );
	}

	$users = array();
	$ids   = array_values( array_unique( array_map( 'intval', $ids ) ) );
	if ( $ids ) {
		list( $users ) = entra_wp_sync_query_users(
			array(
				'include'     => $ids,
				'number'      => -1,
				'count_total' => false,
				// On a network, every network user with these keys, members of this site or not.
				'blog_id'     => 0,
			),
			$id_keys
		);
	}

	$result = array( 'users' => $users );
	if ( is_string( $job ) && '' !== $job ) {
		// The jobs meta is a serialized array of job names.
		$result['managed'] = (int) $wpdb->get_var(
			$wpdb->prepare(
				"SELECT COUNT(*) FROM {$wpdb->usermeta} WHERE meta_key = %s AND meta_value LIKE %s",
				// Kept per site on a network (section 11).
				is_multisite() ? entra_wp_sync_site_meta_key( 'entra_wp_sync_jobs' ) : 'entra_wp_sync_jobs',
				'%' . $wpdb->esc_like( serialize( $job ) ) . '%'
			)
		);
	}
	return rest_ensure_response( $result );
}

function entra_wp_sync_register_user_routes() {
	$key_list = array(
		'type'     => 'array',
		'items'    => array(
			'type'      => 'string',
			'minLength' => 1,
			'maxLength' => 254,
		),
		'maxItems' => ENTRA_WP_SYNC_LOOKUP_MAX_KEYS,
		'default'  => array(),
	);
	$id_keys = array(
		'description' => __( 'User meta keys other tools keep Entra object IDs in.', 'entra-wp-sync' ),
		'type'        => 'array',
		'items'       => array(
			'type'    => 'string',
			'pattern' => '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
		),
		'maxItems'    => 10,
		'default'     => array(),
	);
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/users',
		array(
			'methods'             => WP_REST_Server::READABLE,
			'callback'            => 'entra_wp_sync_rest_user_index',
			'permission_callback' => 'entra_wp_sync_rest_can_manage_users',
			'args'                => array(
				'page'     => array(
					'type'    => 'integer',
					'minimum' => 1,
					'default' => 1,
				),
				'per_page' => array(
					'type'    => 'integer',
					'minimum' => 1,
					'maximum' => ENTRA_WP_SYNC_INDEX_MAX_PER_PAGE,
					'default' => 1000,
				),
				ENTRA_WP_SYNC_ID_KEYS_PARAM => $id_keys,
			),
		)
	);
	register_rest_route(
		ENTRA_WP_SYNC_REST_NAMESPACE,
		'/users/lookup',
		array(
			'methods'             => WP_REST_Server::CREATABLE,
			'callback'            => 'entra_wp_sync_rest_user_lookup',
			'permission_callback' => 'entra_wp_sync_rest_can_manage_users',
			'args'                => array(
				// Entra object ids are GUIDs; the lookup compares LEFT(meta_value, 64).
				'objectIds'   => array_replace_recursive( $key_list, array( 'items' => array( 'maxLength' => 64 ) ) ),
				'emails'      => $key_list,
				'logins'      => $key_list,
				'shortLogins' => $key_list,
				'job'         => array(
					'type'      => 'string',
					'maxLength' => 63,
				),
				ENTRA_WP_SYNC_ID_KEYS_PARAM => $id_keys,
			),
		)
	);
}
add_action( 'rest_api_init', 'entra_wp_sync_register_user_routes' );

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

/*
 * -----------------------------------------------------------------------------
 * 12. Each person's Entra status in wp-admin
 *
 * Administrators look for a person's sync status where they look for the person:
 * an "Entra ID" column in Users, a "Disabled by Entra sync" view there, and a box
 * on the profile screen with the object ID, the managing jobs, when the sync last
 * changed the account, and which profile fields the sync sets (a local edit of
 * those is overwritten at the next run, so each one says so under its input).
 * All of it is shown only to people who may list and edit users.
 *
 * The sync writes entra_wp_sync_managed_fields itself ("job:field" per field a
 * job's mapping sets); an entry counts while its job still manages the person.
 * When the sync last changed the account is recorded here, in a "_" key the
 * REST API cannot write, whenever one of the sync's own requests creates,
 * updates, adds or removes the user (the sync's requests are told apart as in
 * section 10).
 * -----------------------------------------------------------------------------
 */

define( 'ENTRA_WP_SYNC_CHANGED_AT_KEY', '_entra_wp_sync_changed_at' );
/** Query argument of the "Disabled by Entra sync" view of Users. */
define( 'ENTRA_WP_SYNC_STATUS_VIEW_ARG', 'entra_wp_sync_status' );

/** Records the moment a request of the sync changed this account. */
function entra_wp_sync_record_sync_change( $user_id ) {
	if ( entra_wp_sync_is_sync_editing( $user_id ) ) {
		update_user_meta( (int) $user_id, ENTRA_WP_SYNC_CHANGED_AT_KEY, sprintf( '%.3F', microtime( true ) ) );
	}
}
// REST updates always go through wp_update_user(), so meta-only and role-only changes count.
add_action( 'profile_update', 'entra_wp_sync_record_sync_change', 10, 1 );
add_action( 'user_register', 'entra_wp_sync_record_sync_change', 10, 1 );
add_action( 'add_user_to_blog', 'entra_wp_sync_record_sync_change', 10, 1 );
add_action( 'remove_user_from_blog', 'entra_wp_sync_record_sync_change', 10, 1 );

/** Whether the current user may see people's sync status. */
function entra_wp_sync_can_see_sync_status() {
	return current_user_can( 'list_users' ) && current_user_can( 'edit_users' );
}

/**
 * What the sync knows of one account, read through get_user_meta() so that on a
 * network each site's values are read (section 11).
 *
 * @param int $user_id User id.
 * @return array{object_id: string, jobs: string[], status: string, managed: string[], changed_at: float}
 */
function entra_wp_sync_user_sync_status( $user_id ) {
	$jobs    = array_values( array_filter( (array) get_user_meta( $user_id, 'entra_wp_sync_jobs', true ), 'is_string' ) );
	$managed = array();
	foreach ( (array) get_user_meta( $user_id, 'entra_wp_sync_managed_fields', true ) as $entry ) {
		$colon = is_string( $entry ) ? strrpos( $entry, ':' ) : false;
		// A job that let go of the person no longer overwrites anything.
		if ( false !== $colon && in_array( substr( $entry, 0, $colon ), $jobs, true ) ) {
			$managed[] = substr( $entry, $colon + 1 );
		}
	}
	return array(
		'object_id'  => (string) get_user_meta( $user_id, 'entra_wp_sync_object_id', true ),
		'jobs'       => $jobs,
		'status'     => (string) get_user_meta( $user_id, 'entra_wp_sync_status', true ),
		'managed'    => array_values( array_unique( $managed ) ),
		'changed_at' => (float) get_user_meta( $user_id, ENTRA_WP_SYNC_CHANGED_AT_KEY, true ),
	);
}

/**
 * The account's state in a few words: disabled by the sync, synced, or not managed.
 *
 * @param array{jobs: string[], status: string} $status From entra_wp_sync_user_sync_status().
 */
function entra_wp_sync_status_label( $status ) {
	if ( 'disabled' === $status['status'] ) {
		return __( 'Disabled by the sync', 'entra-wp-sync' );
	}
	return $status['jobs'] ? __( 'Synced', 'entra-wp-sync' ) : __( 'Not managed', 'entra-wp-sync' );
}

function entra_wp_sync_users_columns( $columns ) {
	if ( entra_wp_sync_can_see_sync_status() ) {
		$columns['entra_wp_sync'] = __( 'Entra ID', 'entra-wp-sync' );
	}
	return $columns;
}
add_filter( 'manage_users_columns', 'entra_wp_sync_users_columns' );

function entra_wp_sync_users_column( $output, $column_name, $user_id ) {
	if ( 'entra_wp_sync' !== $column_name || ! entra_wp_sync_can_see_sync_status() ) {
		return $output;
	}
	$status = entra_wp_sync_user_sync_status( (int) $user_id );
	$html   = sprintf(
		'<span class="entra-wp-sync-status entra-wp-sync-status-%1$s">%2$s</span>',
		esc_attr( 'disabled' === $status['status'] ? 'disabled' : ( $status['jobs'] ? 'synced' : 'unmanaged' ) ),
		esc_html( entra_wp_sync_status_label( $status ) )
	);
	if ( $status['jobs'] ) {
		$html .= sprintf(
			'<br /><span class="entra-wp-sync-jobs">%s</span>',
			/* translators: %s: comma-separated names of the sync jobs managing the user. */
			esc_html( sprintf( _n( 'Job: %s', 'Jobs: %s', count( $status['jobs'] ), 'entra-wp-sync' ), implode( ', ', $status['jobs'] ) ) )
		);
	}
	return $html;
}
add_filter( 'manage_users_custom_column', 'entra_wp_sync_users_column', 10, 3 );

/** The status key as stored: on a network, this site's (section 11). */
function entra_wp_sync_stored_status_key() {
	return is_multisite() ? entra_wp_sync_site_meta_key( 'entra_wp_sync_status' ) : 'entra_wp_sync_status';
}

/** Whether Users is showing the "Disabled by Entra sync" view. */
function entra_wp_sync_showing_disabled_view() {
	// A view of a list, like core's role links: reading it changes nothing, so no nonce.
	return isset( $_GET[ ENTRA_WP_SYNC_STATUS_VIEW_ARG ] ) && 'disabled' === $_GET[ ENTRA_WP_SYNC_STATUS_VIEW_ARG ];
}

/**
 * How many users of this site the sync disabled: one COUNT over the usermeta
 * index on meta_key (the rows of the status key only, one per synced person, never a
 * scan of all users); on a network joined by user_id to this site's capabilities row,
 * so it counts the members the view lists.
 */
function entra_wp_sync_disabled_user_count() {
	global $wpdb;
	$status_key = entra_wp_sync_stored_status_key();
	if ( ! is_multisite() ) {
		return (int) $wpdb->get_var(
			$wpdb->prepare( "SELECT COUNT(*) FROM {$wpdb->usermeta} WHERE meta_key = %s AND meta_value = 'disabled'", $status_key )
		);
	}
	return (int) $wpdb->get_var(
		$wpdb->prepare(
			"SELECT COUNT(*) FROM {$wpdb->usermeta} s INNER JOIN {$wpdb->usermeta} c ON c.user_id = s.user_id AND c.meta_key = %s WHERE s.meta_key = %s AND s.meta_value = 'disabled'",
			$wpdb->get_blog_prefix() . 'capabilities',
			$status_key
		)
	);
}

function entra_wp_sync_users_views( $views ) {
	if ( ! entra_wp_sync_can_see_sync_status() ) {
		return $views;
	}
	$current = entra_wp_sync_showing_disabled_view();
	if ( $current && isset( $views['all'] ) ) {
		// Core marks "All" current whenever no role is picked.
		$views['all'] = preg_replace( '/\s(class="current"|aria-current="page")/', '', $views['all'] );
	}
	$views['entra_wp_sync_disabled'] = sprintf(
		'<a href="%1$s"%2$s>%3$s <span class="count">(%4$s)</span></a>',
		esc_url( add_query_arg( ENTRA_WP_SYNC_STATUS_VIEW_ARG, 'disabled', admin_url( 'users.php' ) ) ),
		$current ? ' class="current" aria-current="page"' : '',
		esc_html__( 'Disabled by Entra sync', 'entra-wp-sync' ),
		esc_html( number_format_i18n( entra_wp_sync_disabled_user_count() ) )
	);
	return $views;
}
add_filter( 'views_users', 'entra_wp_sync_users_views' );

function entra_wp_sync_users_list_query_args( $args ) {
	if ( entra_wp_sync_showing_disabled_view() && entra_wp_sync_can_see_sync_status() ) {
		$meta_query         = isset( $args['meta_query'] ) && is_array( $args['meta_query'] ) ? $args['meta_query'] : array();
		$meta_query[]       = array(
			'key'   => entra_wp_sync_stored_status_key(),
			'value' => 'disabled',
		);
		$args['meta_query'] = $meta_query;
	}
	return $args;
}
add_filter( 'users_list_table_query_args', 'entra_wp_sync_users_list_query_args' );

/**
 * The profile fields the sync can set, by the name it writes them under: their
 * labels and the id of their input on the profile screen.
 *
 * @return array<string, array{0: string, 1: string}>
 */
function entra_wp_sync_profile_field_inputs() {
	return array(
		'email'       => array( __( 'Email', 'entra-wp-sync' ), 'email' ),
		'first_name'  => array( __( 'First Name', 'entra-wp-sync' ), 'first_name' ),
		'last_name'   => array( __( 'Last Name', 'entra-wp-sync' ), 'last_name' ),
		'name'        => array( __( 'Display name', 'entra-wp-sync' ), 'display_name' ),
		'nickname'    => array( __( 'Nickname', 'entra-wp-sync' ), 'nickname' ),
		'description' => array( __( 'Biographical Info', 'entra-wp-sync' ), 'description' ),
		'url'         => array( __( 'Website', 'entra-wp-sync' ), 'url' ),
		'locale'      => array( __( 'Language', 'entra-wp-sync' ), 'locale' ),
		'roles'       => array( __( 'Role', 'entra-wp-sync' ), 'role' ),
	);
}

/**
 * One row of the profile box.
 *
 * @param string $label Row heading (plain text).
 * @param string $value Cell content, already escaped by the caller.
 */
function entra_wp_sync_profile_row( $label, $value ) {
	printf( '<tr><th scope="row">%1$s</th><td>%2$s</td></tr>', esc_html( $label ), $value );
}

function entra_wp_sync_profile_box( $user ) {
	if ( ! ( $user instanceof WP_User ) || ! entra_wp_sync_can_see_sync_status() ) {
		return;
	}
	$status = entra_wp_sync_user_sync_status( $user->ID );
	$inputs = entra_wp_sync_profile_field_inputs();
	printf( '<h2 id="entra-wp-sync-profile">%s</h2>', esc_html__( 'Entra ID', 'entra-wp-sync' ) );
	echo '<table class="form-table entra-wp-sync-profile" role="presentation"><tbody>';
	entra_wp_sync_profile_row( __( 'Status', 'entra-wp-sync' ), esc_html( entra_wp_sync_status_label( $status ) ) );
	if ( '' === $status['object_id'] && ! $status['jobs'] ) {
		echo '</tbody></table>';
		return;
	}
	entra_wp_sync_profile_row(
		__( 'Entra object ID', 'entra-wp-sync' ),
		'' === $status['object_id'] ? esc_html__( 'None', 'entra-wp-sync' ) : '<code class="entra-wp-sync-object-id">' . esc_html( $status['object_id'] ) . '</code>'
	);
	entra_wp_sync_profile_row(
		__( 'Managed by', 'entra-wp-sync' ),
		$status['jobs']
			/* translators: %s: comma-separated names of the sync jobs managing the user. */
			? esc_html( sprintf( _n( 'Job %s', 'Jobs %s', count( $status['jobs'] ), 'entra-wp-sync' ), implode( ', ', $status['jobs'] ) ) )
			: esc_html__( 'No job (a job let go of this account)', 'entra-wp-sync' )
	);
	entra_wp_sync_profile_row(
		__( 'Last changed by the sync', 'entra-wp-sync' ),
		$status['changed_at'] > 0
			? esc_html( wp_date( get_option( 'date_format' ) . ' ' . get_option( 'time_format' ), (int) $status['changed_at'] ) )
			: esc_html__( 'Not since the companion plugin began recording it', 'entra-wp-sync' )
	);
	$labels = array();
	foreach ( $status['managed'] as $field ) {
		if ( isset( $inputs[ $field ] ) ) {
			$labels[] = $inputs[ $field ][0];
		}
	}
	entra_wp_sync_profile_row(
		__( 'Fields the sync sets', 'entra-wp-sync' ),
		$labels
			? esc_html( implode( ', ', $labels ) ) . '<p class="description">' . esc_html__( 'Entra ID is the source of these: a change made here is overwritten at the next sync run. Change them in Entra ID instead.', 'entra-wp-sync' ) . '</p>'
			: esc_html__( 'None recorded yet (the next sync run records them).', 'entra-wp-sync' )
	);
	echo '</tbody></table>';
	entra_wp_sync_print_managed_field_notes( $status['managed'], $inputs );
}
add_action( 'show_user_profile', 'entra_wp_sync_profile_box' );
add_action( 'edit_user_profile', 'entra_wp_sync_profile_box' );

/**
 * Puts a note under each input the sync overwrites. The profile screen has no hook
 * beside its fields, and the box is printed after them, so a script placed here finds
 * them; the box's list says the same without scripts.
 *
 * @param string[]                                $managed Managed fields (REST names).
 * @param array<string, array{0: string, 1: string}> $inputs  From entra_wp_sync_profile_field_inputs().
 */
function entra_wp_sync_print_managed_field_notes( $managed, $inputs ) {
	$ids = array();
	foreach ( $managed as $field ) {
		if ( isset( $inputs[ $field ] ) ) {
			$ids[] = $inputs[ $field ][1];
		}
	}
	if ( ! $ids ) {
		return;
	}
	$note = __( 'Set by Entra sync: a change made here is overwritten at the next sync run.', 'entra-wp-sync' );
	wp_print_inline_script_tag(
		sprintf(
			'(function(ids,note){ids.forEach(function(id){var input=document.getElementById(id);if(!input||!input.parentNode){return;}var p=document.createElement("p");p.className="description entra-wp-sync-managed";p.setAttribute("data-entra-wp-sync-field",id);p.textContent=note;input.parentNode.appendChild(p);});})(%1$s,%2$s);',
			wp_json_encode( $ids ),
			wp_json_encode( $note )
		)
	);
}

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
