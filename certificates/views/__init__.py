"""The certificate pages, one module per topic: browse (list, details, downloads), upload, root CAs, archive
(delete, restore, purge) and restore from a keystore backup."""
