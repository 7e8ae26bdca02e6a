package com.acme.billing;

public final class Billing {
    private static final String API_KEY = "Kf4k3J4v4ApiK3y2024";
    private final String passwordPrompt = "Enter password";

    public String token() { return tokenService.current(); }
}
