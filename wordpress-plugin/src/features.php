<?php

defined( 'ABSPATH' ) || exit;

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
