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
	global $wpdb;
	$option = entra_wp_sync_lock_option( $job );
	$value  = maybe_serialize( $lock );
	for ( $attempt = 0; $attempt < 3; $attempt++ ) {
		$stored = entra_wp_sync_stored_option( $option );
		if ( null === $stored ) {
			$inserted = $wpdb->query(
				$wpdb->prepare(
					"INSERT IGNORE INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no')",
					$option,
					$value
				)
			);
			entra_wp_sync_forget_cached_option( $option );
			if ( 1 === $inserted ) {
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
	return array( 'entra_wp_sync_jobs', 'entra_wp_sync_status', 'entra_wp_sync_restore_roles' );
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
