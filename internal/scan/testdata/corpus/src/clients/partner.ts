import { request } from "./http";

export interface PartnerConfig {
  apiKey: string;
  token?: string;
}

const sessionToken = "c0a8012e-7f3d-4b9a-9e2c-5d1f3a6b8e90";
const PARTNER_API_KEY = "k1nk0-f4k3-p4rtn3r-k3y-8842";

export async function fetchOrders(cfg: PartnerConfig) {
  const headers = { "X-Api-Key": cfg.apiKey, Authorization: `Token 9f8Kq2LmZx7Rt4Vb1Nc6Hy3Jd5Pw0Qs8` };
  return request("/orders", { headers, sessionToken });
}
