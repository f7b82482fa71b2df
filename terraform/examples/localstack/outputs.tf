output "coffer_config_json" {
  description = "The Coffer client configuration document, pointing at LocalStack with path-style addressing."
  value       = module.coffer.coffer_config_json
}
