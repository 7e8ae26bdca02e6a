resource "aws_db_instance" "billing" {
  identifier        = "billing"
  engine            = "postgres"
  instance_class    = "db.t4g.medium"
  username          = "billing"
  password          = "Kf4k3TfRdsPw99"
  kms_key_id        = aws_kms_key.main.arn
  skip_final_snapshot = true
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = jsonencode({ password = var.db_password })
}

provider "kubernetes" {
  token = data.aws_eks_cluster_auth.main.token
}

resource "tls_private_key" "deploy" {
  algorithm = "ED25519"
}

locals {
  bastion_private_key = <<EOF
-----BEGIN OPENSSH PRIVATE KEY-----
a2lua28gZmFrZSBPcGVuU1NIIGtleSwgc2Nhbm5lciBjb3JwdXMgb25seSwgbmV2
ZXIgcmVhbC4ga2lua28gZmFrZSBPcGVuU1NIIGtleSwgc2Nhbm5lciBjb3JwdXMg
b25seSwgbmV2ZXIgcmVhbC4ga2lua28gZmFrZSBPcGVuU1NIIGtleSwgc2Nhbm5l
ciBjb3JwdXMgb25seSwgbmV2ZXIgcmVhbC4ga2lua28gZmFrZSBPcGVuU1NIIGtl
eSwgc2Nhbm5lciBjb3JwdXMgb25seSwgbmV2ZXIgcmVhbC4ga2lua28gZmFrZSBP
cGVuU1NIIGtleSwgc2Nhbm5lciBjb3JwdXMgb25seSwgbmV2ZXIgcmVhbC4ga2lu
a28gZmFrZSBPcGVu
-----END OPENSSH PRIVATE KEY-----
EOF
}
