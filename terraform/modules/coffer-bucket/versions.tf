terraform {
  # Validation blocks and optional object attributes need 1.3; 1.5 is the oldest release we test with.
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}
