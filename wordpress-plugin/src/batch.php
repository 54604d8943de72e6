<?php

defined( 'ABSPATH' ) || exit;

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
