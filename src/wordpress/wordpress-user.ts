// The shape of a WordPress user as the REST API returns it with context=edit.
export interface WordPressUser {
  id: number;
  username: string;
  email: string;
  roles: string[];
  first_name: string;
  last_name: string;
  /** display_name */
  name: string;
  nickname: string;
  description: string;
  url: string;
  locale: string;
  meta: Record<string, unknown>;
}

export const userFields = [
  'id',
  'username',
  'email',
  'roles',
  'first_name',
  'last_name',
  'name',
  'nickname',
  'description',
  'url',
  'locale',
  'meta',
] as const;
