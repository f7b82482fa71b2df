locals {
  blobs_prefix  = "${var.prefix}blobs/"
  index_prefix  = "${var.prefix}index/"
  ingest_prefix = "${var.prefix}ingest/"

  # The client configuration document; its format is specified in the README and pinned by a test.
  coffer_config = {
    version   = 1
    bucket    = aws_s3_bucket.this.id
    prefix    = var.prefix
    region    = aws_s3_bucket.this.region
    endpoint  = var.client_endpoint
    pathStyle = var.client_path_style
    kmsKeyArn = var.kms_key_arn
  }
}
