<?php

defined( 'ABSPATH' ) || exit;

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
