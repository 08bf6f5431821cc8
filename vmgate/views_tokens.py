"""The API tokens page: a user's named tokens, created (key shown once), listed, revoked."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from vmgate.models import APIToken


class APITokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses it, e.g. “SIP edge 1” or “provisioning script”."
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if APIToken.objects.filter(user=self.user, name=name).exists():
            raise ValidationError("You already have a token with this name.")
        return name


def _page(request, form, *, key=None, created=None, status=200):
    tokens = APIToken.objects.filter(user=request.user).order_by("name", "id")
    context = {"tokens": tokens, "form": form, "key": key, "created": created}
    return render(request, "vmgate/apitoken_list.html", context, status=status)


def apitoken_list(request):
    return _page(request, APITokenForm(user=request.user))


@require_POST
def apitoken_add(request):
    """Creates a token and shows its key on this response only (only its hash is kept)."""
    form = APITokenForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        token, key = APIToken.issue(request.user, form.cleaned_data["name"])
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error("name", message)
        return _page(request, form, status=400)
    return _page(request, APITokenForm(user=request.user), key=key, created=token)


@require_POST
def apitoken_delete(request, pk):
    """Revokes one of the user's own tokens (anyone else's id is a 404)."""
    token = get_object_or_404(APIToken, pk=pk, user=request.user)
    name = token.name
    token.delete()
    messages.success(request, f"Token “{name}” revoked.")
    return redirect("vmgate:apitoken_list")
