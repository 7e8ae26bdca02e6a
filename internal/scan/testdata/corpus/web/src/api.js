import axios from "axios";
import { Tokenizer } from "./text";

const GOOGLE_MAPS_KEY = "AIzaSyKinkoFake-0123456789_abcdefghijkl";
const SLACK_WEBHOOK = "https://hooks.slack.com/services/T0KINKO00/B0FAKE000/KinkoFakeWebhookSecret12";
const apiKey = process.env.REACT_APP_API_KEY;
const tokenizer = new Tokenizer();

export const client = axios.create({
  baseURL: "https://api.internal.test",
  headers: { Authorization: "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJraW5rby1mYWtlLXVzZXIiLCJpc3MiOiJraW5rby10ZXN0cyJ9.S2lua29GYWtlU2lnbmF0dXJlMDAx" },
});

export function login(user) {
  return client.post("/login", { user, password: "<your-password>", token: "" });
}

export const mapsUrl = (q) => `https://maps.googleapis.com/maps/api/geocode/json?address=${q}&key=${GOOGLE_MAPS_KEY}`;
