import uuid

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models


class Role(models.TextChoices):
    TENANT_ADMIN = "tenant-admin", "Tenant administrator"
    PROFESSIONAL = "professional", "Genesys professional"
    SUPPORT = "support", "Support"


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1 to 50 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A portal user has exactly one role.

    A tenant administrator belongs to exactly one tenant; a Genesys professional is granted any number of tenants;
    support reads every tenant and is granted none.
    """

    role = models.CharField(max_length=20, choices=Role.choices)
    tenants = models.ManyToManyField(Tenant, blank=True, related_name="users")

    def __str__(self) -> str:
        return self.username
