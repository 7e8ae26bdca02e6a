#!/usr/bin/env bash
set -euo pipefail

export AWS_ACCESS_KEY_ID=AKIAKINKOFAKEDEPLOY2
export AWS_DEFAULT_REGION=eu-central-1
PGPASSWORD="${PGPASSWORD:?set PGPASSWORD}"
ssh_key=$(cat ~/.ssh/id_ed25519)

curl -fsS -H "Authorization: token ghp_KinkoFakeDeploy456789abcdefghijKLMNOP" \
  https://api.github.com/repos/acme/billing/deployments

mysql -h db.internal -u root -p"$DB_PASSWORD" billing < migrations/latest.sql
echo "deployed"
