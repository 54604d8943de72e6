import { describe, expect, it } from 'vitest';
import { attributesOf, attributesOfMap, MappingSyntaxError, parseMapping } from '../../src/config/mapping.ts';

describe('mappings', () => {
  it('parses an attribute path', () => {
    expect(parseMapping('mail')).toEqual({ kind: 'path', text: 'mail', segments: [{ name: 'mail' }] });
    expect(parseMapping('onPremisesExtensionAttributes.extensionAttribute1')).toMatchObject({
      kind: 'path',
      segments: [{ name: 'onPremisesExtensionAttributes' }, { name: 'extensionAttribute1' }],
    });
  });

  it('parses a directory extension attribute as a plain name', () => {
    const name = 'extension_3f2b9c0d1e4a4b5c8d7e6f5a4b3c2d1e_costCenter';
    expect(parseMapping(name)).toMatchObject({ kind: 'path', segments: [{ name }] });
  });

  it('parses an array filter in a path, including a value with a dot', () => {
    expect(parseMapping('identities[signInType=emailAddress].issuerAssignedId')).toMatchObject({
      segments: [
        { name: 'identities', where: { key: 'signInType', equals: 'emailAddress' } },
        { name: 'issuerAssignedId' },
      ],
    });
    expect(parseMapping('identities[issuer=contoso.onmicrosoft.com].issuerAssignedId')).toMatchObject({
      segments: [
        { where: { key: 'issuer', equals: 'contoso.onmicrosoft.com' } },
        { name: 'issuerAssignedId' },
      ],
    });
  });

  it('parses a template into text and placeholders, with {{ and }} as literal braces', () => {
    expect(parseMapping('{givenName} {surname}')).toMatchObject({
      kind: 'template',
      parts: [
        { kind: 'path', text: 'givenName' },
        { kind: 'text', text: ' ' },
        { kind: 'path', text: 'surname' },
      ],
    });
    expect(parseMapping('{{{department}}}')).toMatchObject({
      parts: [
        { kind: 'text', text: '{' },
        { kind: 'path', text: 'department' },
        { kind: 'text', text: '}' },
      ],
    });
  });

  it('parses a list as first-non-empty of paths and templates', () => {
    const mapping = parseMapping(['displayName', '{givenName} {surname}']);
    expect(mapping).toMatchObject({ kind: 'first', options: [{ kind: 'path' }, { kind: 'template' }] });
  });

  it.each([
    ['given name', 'is not an attribute path'],
    ['mail.', 'is not an attribute path'],
    ['identities[signInType].x', 'is not an attribute path'],
    ['{givenName', 'never closed'],
    ['{} x', 'empty placeholder'],
    ['{given name}', 'is not an attribute path'],
    ['plain text }', 'without "{"'],
    ['', 'cannot be empty'],
  ])('refuses %j', (text, message) => {
    expect(() => parseMapping(text)).toThrowError(MappingSyntaxError);
    expect(() => parseMapping(text)).toThrowError(message);
  });

  it('names the top-level Graph attributes a mapping needs for $select', () => {
    expect(attributesOf(parseMapping('onPremisesExtensionAttributes.extensionAttribute1'))).toEqual([
      'onPremisesExtensionAttributes',
    ]);
    expect(attributesOf(parseMapping('identities[signInType=emailAddress].issuerAssignedId'))).toEqual([
      'identities',
    ]);
    expect(attributesOf(parseMapping(['displayName', '{givenName} {surname}', 'givenName']))).toEqual([
      'displayName',
      'givenName',
      'surname',
    ]);
  });

  it('collects the attributes of a whole job map, meta included, sorted and without duplicates', () => {
    const map = {
      user_login: parseMapping('userPrincipalName'),
      first_name: parseMapping('givenName'),
      display_name: parseMapping('{givenName} {surname}'),
      meta: { office: parseMapping('officeLocation') },
    };
    expect(attributesOfMap(map)).toEqual(['givenName', 'officeLocation', 'surname', 'userPrincipalName']);
  });
});
