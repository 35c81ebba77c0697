"""The key-management/v1 contract, mounted at /key-management/v1/ by the project's URLs. Paths have no trailing
slash, as Genesys Cloud calls them; one is tolerated."""

from django.urls import re_path

from . import api

urlpatterns = [
    re_path(r"^keypair/?$", api.keypair_collection, name="lkm-api-keypairs"),
    re_path(r"^keypair/(?P<keypair_id>[^/]+)/?$", api.keypair_detail, name="lkm-api-keypair"),
    re_path(r"^decrypt/?$", api.decrypt, name="lkm-api-decrypt"),
    re_path(r"^(?P<rest>.*)$", api.not_found),
]
