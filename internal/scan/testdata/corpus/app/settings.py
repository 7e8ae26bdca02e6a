"""Django settings for the billing service."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-k1nk0f4k3s3cr3tk3yN0TREAL0123456789abcd"

DEBUG = os.environ.get("DEBUG", "0") == "1"
ALLOWED_HOSTS = ["billing.internal", "localhost"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "billing",
        "USER": "billing",
        "PASSWORD": "Kf4k3Dj4ng0Pw!",
        "HOST": "db.internal",
        "PORT": 5432,
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD")
API_TOKEN = os.getenv("API_TOKEN", "")
TOKEN_TTL = 3600
SESSION_COOKIE_NAME = "sessionid"

AWS_ACCESS_KEY_ID = "AKIAKINKOFAKEKEY2345"
AWS_SECRET_ACCESS_KEY = "kinkoFAKEs3cr3tK3y/N0tR3alAtA11+0123abcd"
AWS_STORAGE_BUCKET_NAME = "billing-invoices"
