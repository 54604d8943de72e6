<?php

defined( 'ABSPATH' ) || exit;

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
