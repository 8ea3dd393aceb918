from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views, views_tokens

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views_tokens.tokens, name="api-tokens"),
    path("tokens/<pid:token_id>/revoke/", views_tokens.token_revoke_view, name="api-token-revoke"),
]
