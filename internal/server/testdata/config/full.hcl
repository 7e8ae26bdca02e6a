storage "bolt" {
  path = "/var/lib/kinko/kinko.db"
}

listener "tcp" {
  address          = "0.0.0.0:8200"
  tls_cert_file    = "/etc/kinko/tls.crt"
  tls_key_file     = "/etc/kinko/tls.key"
  max_request_size = 1048576
  rate_limit       = 500
  rate_burst       = 1000
}

listener "tcp" {
  address     = "127.0.0.1:8201"
  tls_disable = true
}

api_addr          = "https://kinko.example.com:8200"
ui                = true
log_level         = "debug"
log_format        = "json"
default_lease_ttl = "1h"
max_lease_ttl     = "7d"
