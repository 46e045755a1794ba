//! The REST API (`docs/reference-server.md`): setup, whoami, and token
//! management.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use tokenkeep::axum::{AnyToken, ApiError, Manager, Token};
use tokenkeep::expiry::parse_duration;
use tokenkeep::record::{IpNet, Metadata, RateLimit, RecordError, Usage};
use tokenkeep::rules::Refusal;
use tokenkeep::scope::Ability;
use tokenkeep::{
    Actor, Expiry, IssueRequest, ManageError, Route, Scopes, TokenId, TokenRef, TokenUpdate,
};

use crate::json_body::JsonBody;
use crate::state::AppState;
use crate::view::TokenView;

type ApiResult<T> = Result<T, ApiError>;

pub(crate) async fn setup_status(
    State(state): State<AppState>,
) -> ApiResult<Json<serde_json::Value>> {
    let claimed = state.service.is_claimed().await?;
    Ok(Json(json!({ "claimed": claimed })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClaimBody {
    #[serde(default)]
    name: String,
    setup_token: Option<String>,
}

pub(crate) async fn claim(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ClaimBody>,
) -> ApiResult<impl IntoResponse> {
    let issued = state.service.claim_setup(&body.name, body.setup_token.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(TokenView::issued(&issued))))
}

pub(crate) async fn whoami(Token(who, ..): Token<AnyToken>) -> Json<serde_json::Value> {
    Json(json!({
        "owner": who.owner(),
        "token_id": who.token_id().to_string(),
        "name": who.name(),
        "scopes": who.scopes(),
        "metadata": who.metadata(),
    }))
}

/// Scope fields as the API takes them; `None` leaves a part unchanged.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeFields {
    manager: Option<bool>,
    abilities: Option<Vec<Ability>>,
    routes: Option<Vec<Route>>,
}

impl ScopeFields {
    /// `base` with the given parts replaced.
    fn apply(self, base: &Scopes) -> Scopes {
        Scopes {
            manager: self.manager.unwrap_or(base.manager),
            abilities: self.abilities.unwrap_or_else(|| base.abilities.clone()),
            routes: self.routes.unwrap_or_else(|| base.routes.clone()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    #[serde(default)]
    name: String,
    description: Option<String>,
    expires_in: Option<String>,
    profile: Option<String>,
    owner: Option<String>,
    /// The application's own JSON object (at most 4 KB).
    metadata: Option<serde_json::Value>,
    /// At most so many requests per period, per server process (`100/1m`).
    rate_limit: Option<String>,
    /// Successful verifications the token may make (consumed atomically).
    uses: Option<u64>,
    /// Refills `uses`: `100/1d` sets it back to 100 every day.
    uses_refill: Option<String>,
    /// The client address ranges the token may be used from.
    #[serde(default)]
    allowed_ips: Vec<String>,
    #[serde(flatten)]
    scopes: ScopeFields,
}

fn expiry(text: Option<&str>) -> Result<Expiry, ManageError> {
    Ok(match text {
        None => Expiry::Never,
        Some(text) => Expiry::After(parse_duration(text)?),
    })
}

pub(crate) async fn create(
    State(state): State<AppState>,
    Token(who, ..): Token<Manager>,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let owner = body.owner.unwrap_or_else(|| who.owner().to_owned());
    let mut request = IssueRequest::new(owner, body.name)
        .scopes(body.scopes.apply(&Scopes::default()))
        .expires(expiry(body.expires_in.as_deref())?);
    request.description = body.description;
    request.profile = body.profile;
    request.metadata = field_change(body.metadata, metadata_of)?.flatten();
    request.allowed_ips = parse_ranges(&body.allowed_ips)?;
    if let Some(uses) = body.uses {
        let usage = Usage::parse(uses, body.uses_refill.as_deref(), state.service.service().now());
        request.usage = Some(usage.map_err(ManageError::from)?);
    } else if body.uses_refill.is_some() {
        return Err(ManageError::from(RecordError::Usage).into());
    }
    request.rate_limit =
        body.rate_limit.as_deref().map(str::parse).transpose().map_err(ManageError::from)?;
    let issued = state.service.issue(&Actor::Token(who), request).await?;
    Ok((StatusCode::CREATED, Json(TokenView::issued(&issued))))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    owner: Option<String>,
    #[serde(default)]
    include_revoked: bool,
    /// Only the active tokens expiring within this window (`7d`), soonest
    /// first.
    expiring_within: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Token(who, ..): Token<Manager>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<TokenView>>> {
    let actor = Actor::Token(who);
    let owner = query.owner.as_deref();
    let records = match query.expiring_within.as_deref() {
        Some(window) => {
            let within = parse_duration(window).map_err(ManageError::from)?;
            state.service.expiring(&actor, owner, within).await?
        }
        None => {
            let service = &state.service;
            service.list(&actor, owner, query.include_revoked).await?
        }
    };
    Ok(Json(records.iter().map(TokenView::of).collect()))
}

/// A path id that is not a token id names no token.
fn token_ref(id: &str) -> Result<TokenRef, ApiError> {
    id.parse::<TokenId>()
        .map(TokenRef::id)
        .map_err(|_| ManageError::Refused(Refusal::NotFound).into())
}

pub(crate) async fn get_token(
    State(state): State<AppState>,
    Token(who, ..): Token<Manager>,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenView>> {
    let record = state.service.get(&Actor::Token(who), &token_ref(&id)?).await?;
    Ok(Json(TokenView::of(&record)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModifyBody {
    name: Option<String>,
    description: Option<String>,
    /// An object replaces the metadata, `null` clears it.
    #[serde(default, deserialize_with = "present")]
    metadata: Option<serde_json::Value>,
    /// `100/1m` sets the rate limit, `null` lifts it.
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<serde_json::Value>,
    /// Replaces the address ranges; `[]` allows any address.
    allowed_ips: Option<Vec<String>>,
    #[serde(flatten)]
    scopes: ScopeFields,
}

/// A field that was sent, `null` included (serde reads a `null` option as
/// absent otherwise).
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

/// Address ranges as the API takes them: CIDR strings.
fn parse_ranges(ranges: &[String]) -> Result<Vec<IpNet>, ApiError> {
    ranges
        .iter()
        .map(|range| {
            range.parse().map_err(|_| {
                ApiError::new(
                    400,
                    "INVALID_ADDRESS_RANGE",
                    "allowed_ips takes CIDR ranges such as 10.0.0.0/8",
                )
            })
        })
        .collect()
}

/// What a PATCH asks of an optional field: keep it (absent), clear it
/// (`null`), or set it to what `set` makes of the value.
pub(crate) fn field_change<T>(
    value: Option<serde_json::Value>,
    set: impl FnOnce(serde_json::Value) -> Result<T, RecordError>,
) -> Result<Option<Option<T>>, ManageError> {
    Ok(match value {
        None => None,
        Some(serde_json::Value::Null) => Some(None),
        Some(value) => Some(Some(set(value)?)),
    })
}

/// Metadata from JSON: an object of at most 4 KB.
fn metadata_of(value: serde_json::Value) -> Result<Metadata, RecordError> {
    match value {
        serde_json::Value::Object(object) => Metadata::new(object),
        _ => Err(RecordError::Metadata),
    }
}

/// A rate limit from JSON: a string such as `100/1m`.
pub(crate) fn rate_limit_of(value: serde_json::Value) -> Result<RateLimit, RecordError> {
    value.as_str().ok_or(RecordError::RateLimit)?.parse()
}

pub(crate) async fn modify(
    State(state): State<AppState>,
    Token(who, ..): Token<Manager>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ModifyBody>,
) -> ApiResult<Json<TokenView>> {
    let actor = Actor::Token(who);
    let token = token_ref(&id)?;
    // Only the fields sent change, each applied by the store to the token
    // as it is then: concurrent PATCHes of different fields all land.
    let changes = TokenUpdate {
        name: body
            .name
            .map(tokenkeep::record::TokenName::new)
            .transpose()
            .map_err(ManageError::from)?,
        description: body.description.map(Some),
        manager: body.scopes.manager,
        abilities: body.scopes.abilities,
        routes: body.scopes.routes,
        profile: None,
        metadata: field_change(body.metadata, metadata_of)?,
        rate_limit: field_change(body.rate_limit, rate_limit_of)?,
        usage: None,
        allowed_ips: body.allowed_ips.map(|ranges| parse_ranges(&ranges)).transpose()?,
    };
    let record = state.service.modify(&actor, &token, changes).await?;
    Ok(Json(TokenView::of(&record)))
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Token(who, ..): Token<Manager>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.service.revoke(&Actor::Token(who), &token_ref(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateBody {
    grace: Option<String>,
}

pub(crate) async fn rotate(
    State(state): State<AppState>,
    Token(who, ..): Token<Manager>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RotateBody>,
) -> ApiResult<impl IntoResponse> {
    let grace = body.grace.as_deref().map(parse_duration).transpose().map_err(ManageError::from)?;
    let issued = state.service.rotate(&Actor::Token(who), &token_ref(&id)?, grace).await?;
    Ok((StatusCode::CREATED, Json(TokenView::issued(&issued))))
}

pub(crate) async fn revoke_all(
    State(state): State<AppState>,
    Token(who, ..): Token<Manager>,
    Path(owner): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let revoked = state.service.revoke_all(&Actor::Token(who), &owner).await?;
    Ok(Json(json!({ "revoked": revoked })))
}
