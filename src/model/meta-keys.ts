// User meta the companion plugin registers for REST (wordpress-plugin/src/meta.php).
export const metaKeys = {
  objectId: 'entra_wp_sync_object_id',
  jobs: 'entra_wp_sync_jobs',
  status: 'entra_wp_sync_status',
  restoreRoles: 'entra_wp_sync_restore_roles',
  avatarId: 'entra_wp_sync_avatar_id',
  photoEtag: 'entra_wp_sync_photo_etag',
  /** "job:field" for each field a job sets on the account (the profile screen marks them). */
  managedFields: 'entra_wp_sync_managed_fields',
} as const;
