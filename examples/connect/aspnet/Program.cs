// NOT RUN HERE: .NET is not installed on the machine that tests Signet.
// These are the settings docs/connect/aspnet.md explains, for ASP.NET Core
// 8 or later (Microsoft.AspNetCore.Authentication.OpenIdConnect and, for an
// API, Microsoft.AspNetCore.Authentication.JwtBearer).
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

var builder = WebApplication.CreateBuilder(args);
var signet = builder.Configuration.GetSection("Signet");

builder.Services
    .AddAuthentication(options =>
    {
        options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        options.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
    })
    .AddCookie()
    .AddOpenIdConnect(options =>
    {
        options.Authority = signet["Issuer"];          // discovery and the JWKS from here
        options.ClientId = signet["ClientId"];
        options.ClientSecret = signet["ClientSecret"];  // from user secrets or the environment, not appsettings.json
        options.ResponseType = OpenIdConnectResponseType.Code;
        // Signet answers with the query string only; ASP.NET's default is form_post.
        options.ResponseMode = OpenIdConnectResponseMode.Query;
        options.UsePkce = true;                         // S256, the only method Signet accepts
        options.Scope.Clear();
        options.Scope.Add("openid");
        options.Scope.Add("profile");
        options.Scope.Add("email");
        options.Scope.Add("offline_access");            // a refresh token
        options.SaveTokens = true;                      // keeps id_token for logout, refresh_token for refresh
        options.GetClaimsFromUserInfoEndpoint = true;
        options.MapInboundClaims = false;               // keep sub, name, email as Signet names them
        options.TokenValidationParameters.NameClaimType = "name";
        // /signin-oidc and /signout-callback-oidc are the defaults; register
        // both in Signet (redirectUris, postLogoutRedirectUris).
        options.CallbackPath = "/signin-oidc";
        options.SignedOutCallbackPath = "/signout-callback-oidc";
        options.RequireHttpsMetadata = !builder.Environment.IsDevelopment();
    });

builder.Services.AddAuthorization();
var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();

app.MapGet("/", () => "signed out");
app.MapGet("/me", (HttpContext ctx) => new
{
    sub = ctx.User.FindFirst("sub")?.Value,
    name = ctx.User.FindFirst("name")?.Value,
    email = ctx.User.FindFirst("email")?.Value,
}).RequireAuthorization();
// Sends id_token_hint (saved above) and post_logout_redirect_uri to Signet's
// end_session_endpoint; Signet ends its session without asking.
app.MapGet("/logout", () => Results.SignOut(
    new AuthenticationProperties { RedirectUri = "/" },
    [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme]));

app.Run();
