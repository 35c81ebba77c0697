"""Master-key providers: where the key that wraps the tenants' data keys lives (a file, the environment, a PKCS#11
token, AWS KMS), and which of them the settings configure."""
