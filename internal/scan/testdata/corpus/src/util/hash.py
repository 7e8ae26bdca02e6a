import hashlib

def api_key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()

EMPTY_TOKEN_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
password_hash = "$2b$12$KinkoFakeBcryptSaltAndHashValue0123456789abcdefghi"
