// Sovereign clouds differ in authority, Graph host and the audience GitHub's OIDC
// token must carry for workload identity federation.
export type CloudName = 'global' | 'usgov' | 'usgovdod' | 'china';

export interface CloudEndpoints {
  authorityHost: string;
  graphEndpoint: string;
  federationAudience: string;
}

const clouds: Record<CloudName, CloudEndpoints> = {
  global: {
    authorityHost: 'https://login.microsoftonline.com',
    graphEndpoint: 'https://graph.microsoft.com',
    federationAudience: 'api://AzureADTokenExchange',
  },
  usgov: {
    authorityHost: 'https://login.microsoftonline.us',
    graphEndpoint: 'https://graph.microsoft.us',
    federationAudience: 'api://AzureADTokenExchangeUSGov',
  },
  usgovdod: {
    authorityHost: 'https://login.microsoftonline.us',
    graphEndpoint: 'https://dod-graph.microsoft.us',
    federationAudience: 'api://AzureADTokenExchangeUSGov',
  },
  china: {
    authorityHost: 'https://login.chinacloudapi.cn',
    graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn',
    federationAudience: 'api://AzureADTokenExchangeChina',
  },
};

export interface CloudSettings {
  cloud: CloudName;
  endpoint?: string | undefined;
  authorityHost?: string | undefined;
}

export function resolveCloudEndpoints(settings: CloudSettings): CloudEndpoints {
  const base = clouds[settings.cloud];
  return {
    authorityHost: trimSlash(settings.authorityHost ?? base.authorityHost),
    graphEndpoint: trimSlash(settings.endpoint ?? base.graphEndpoint),
    federationAudience: base.federationAudience,
  };
}

export function graphScope(endpoints: CloudEndpoints): string {
  return `${endpoints.graphEndpoint}/.default`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
