// The `roles` section of a job, with the guard against granting privileged roles.
import { z } from 'zod';
import { isPrivilegedRole } from './guards.ts';

export const roleSlug = /^[a-z0-9][a-z0-9_-]*$/;

const privilegedMessage = (role: string) =>
  `role "${role}" is privileged (it can manage the site or promote users); set roles.allowPrivileged: true if you really mean it`;

export const rolesSettings = z
  .strictObject({
    default: z
      .union([
        z.literal(''),
        z.string().regex(roleSlug, { error: 'must be a role slug such as subscriber or editor' }),
      ])
      .default('subscriber')
      .describe('Role of synced users no rule applies to; "" gives no role. Default: subscriber.'),
    mode: z
      .enum(['replace', 'add'])
      .default('replace')
      .describe(
        "replace: the mapped roles become the user's roles; add: mapped roles are added, others kept.",
      ),
    rules: z
      .array(
        z.strictObject({
          group: z.string().min(1).describe('Entra group: object ID or display name.'),
          role: z
            .string()
            .regex(roleSlug, { error: 'must be a role slug such as editor' })
            .describe('WordPress role (slug) for members of the group.'),
        }),
      )
      .default([])
      .describe(
        'Group → role rules; a user in several groups gets every matching role (add) or all of them (replace).',
      ),
    guestRole: z
      .string()
      .regex(roleSlug, { error: 'must be a role slug such as subscriber' })
      .optional()
      .describe('Role for included guest users instead of the default role.'),
    allowPrivileged: z
      .boolean()
      .default(false)
      .describe('Allow rules to grant administrator or other privileged roles. Default: false.'),
    manageAdministrators: z
      .boolean()
      .default(false)
      .describe('Allow the sync to change, disable or delete administrators. Default: false.'),
  })
  .superRefine((roles, ctx) => {
    if (roles.allowPrivileged) return;
    if (roles.default && isPrivilegedRole(roles.default)) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: privilegedMessage(roles.default) });
    }
    roles.rules.forEach((rule, index) => {
      if (isPrivilegedRole(rule.role)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', index, 'role'],
          message: privilegedMessage(rule.role),
        });
      }
    });
    if (roles.guestRole && isPrivilegedRole(roles.guestRole)) {
      ctx.addIssue({ code: 'custom', path: ['guestRole'], message: privilegedMessage(roles.guestRole) });
    }
  })
  .describe('Which WordPress roles synced users get.');
