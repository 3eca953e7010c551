// ecsapi test page: sign up / sign in with the stack's Cognito user pool, then GET and PUT items on
// each configured service. No framework and no build step; the page runs under a strict
// Content-Security-Policy (script-src 'self'; style-src 'self'), so nothing here creates inline
// scripts, inline styles or event-handler attributes, and every string from outside (config,
// Cognito, the API) reaches the DOM through textContent, never innerHTML.
"use strict";

(() => {
  // --- Protocol facts, written once ---------------------------------------------------------------

  // Cognito user pools JSON API: POST, target header names the operation (Amazon Cognito API
  // Reference, "Making API requests"; the SDKs send exactly these two headers).
  const COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService.";
  const COGNITO_CONTENT_TYPE = "application/x-amz-json-1.1";
  // Refresh this long before `exp`, so a token does not expire between the check and the API's.
  const EXPIRY_MARGIN_SECONDS = 60;
  // Cognito's password "special characters" (Amazon Cognito Developer Guide, "Adding user pool
  // password requirements"); a space inside the password counts too, but not a leading or trailing one.
  const COGNITO_SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";
  const SESSION_PREFIX = "ecsapi.session:";

  // The same rules as web/config.schema.json (tests/web check that both reject the same configs).
  const ENDPOINT = /^(https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?|http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?)(\/[^\s?#]*)?$/;
  const RULES = {
    region: /^[a-z]{2}(-[a-z]+)+-[0-9]+$/,
    apiDomain: /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    userPoolId: /^[\w-]+_[0-9a-zA-Z]+$/,
    clientId: /^[\w+]+$/,
    serviceName: /^[a-z][a-z0-9]{0,19}$/,
    path: /^(\/[A-Za-z0-9._~-]+)+\/\{[A-Za-z][A-Za-z0-9_]{0,63}\}$/,
    idParameter: /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
  };
  const METHODS = ["GET", "PUT"];
  const TOP_FIELDS = ["region", "apiUrl", "apiDomain", "cognitoEndpoint", "userPoolId", "clientId", "passwordPolicy", "services"];
  const POLICY_FIELDS = ["minimumLength", "requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"];
  const SERVICE_FIELDS = ["name", "path", "idParameter", "protectedMethods"];

  const $ = (selector, root = document) => root.querySelector(selector);

  // --- Messages --------------------------------------------------------------------------------------

  /** Show one message in #messages (an aria-live region): kind is "error" or "info". */
  function say(kind, text) {
    const box = $("#messages");
    const line = document.createElement("p");
    line.className = `message ${kind}`;
    line.textContent = text;
    box.replaceChildren(line);
  }

  // A request the CSP refuses fails like a network error; say which directive refused it instead.
  document.addEventListener("securitypolicyviolation", (event) => {
    say("error", `The page's Content-Security-Policy (${event.effectiveDirective}) blocked ${event.blockedURI || "a resource"}: ` +
      "add the API and Cognito origins to connect-src.");
  });

  // --- Configuration -------------------------------------------------------------------------------

  class ConfigError extends Error {}

  function requireMatch(field, value, pattern, allowed) {
    if (typeof value !== "string" || !pattern.test(value)) {
      throw new ConfigError(`${field} is ${JSON.stringify(value)}: ${allowed}`);
    }
  }

  function onlyKnown(field, object, known) {
    for (const key of Object.keys(object)) {
      if (!known.includes(key)) throw new ConfigError(`${field}${key} is not a setting (allowed: ${known.join(", ")})`);
    }
  }

  /** The checked settings, or a ConfigError naming the field, its value and what is allowed. */
  function validateConfig(raw) {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new ConfigError("config.json must hold a JSON object");
    onlyKnown("", raw, TOP_FIELDS);
    for (const field of ["region", "apiUrl", "userPoolId", "clientId", "passwordPolicy", "services"]) {
      if (!(field in raw)) throw new ConfigError(`${field} is missing`);
    }
    requireMatch("region", raw.region, RULES.region, "give an AWS Region such as us-east-1");
    const urlRule = "give an https:// URL (http:// only for localhost or 127.0.0.1), without ? or #";
    requireMatch("apiUrl", raw.apiUrl, ENDPOINT, urlRule);
    if ("cognitoEndpoint" in raw) requireMatch("cognitoEndpoint", raw.cognitoEndpoint, ENDPOINT, urlRule);
    if ("apiDomain" in raw) {
      requireMatch("apiDomain", raw.apiDomain, RULES.apiDomain, "give a lower-case domain name such as api.example.com");
      if (raw.apiDomain.length > 253) throw new ConfigError("apiDomain is longer than 253 characters");
    }
    requireMatch("userPoolId", raw.userPoolId, RULES.userPoolId, "give the user pool id, such as us-east-1_AbCdEfGhI");
    if (raw.userPoolId.length > 55) throw new ConfigError("userPoolId is longer than 55 characters");
    requireMatch("clientId", raw.clientId, RULES.clientId, "give the app client id (letters, digits, _ and +)");
    if (raw.clientId.length > 128) throw new ConfigError("clientId is longer than 128 characters");

    const policy = raw.passwordPolicy;
    if (policy === null || typeof policy !== "object" || Array.isArray(policy)) throw new ConfigError("passwordPolicy must be an object");
    onlyKnown("passwordPolicy.", policy, POLICY_FIELDS);
    const length = policy.minimumLength;
    if (!Number.isInteger(length) || length < 6 || length > 99) {
      throw new ConfigError(`passwordPolicy.minimumLength is ${JSON.stringify(length)}: give a whole number from 6 to 99`);
    }
    for (const flag of POLICY_FIELDS.slice(1)) {
      if (typeof policy[flag] !== "boolean") throw new ConfigError(`passwordPolicy.${flag} is ${JSON.stringify(policy[flag])}: give true or false`);
    }

    if (!Array.isArray(raw.services) || raw.services.length === 0) throw new ConfigError("services must be a list of at least one service");
    const names = new Set();
    raw.services.forEach((service, index) => {
      const at = `services[${index}]`;
      if (service === null || typeof service !== "object" || Array.isArray(service)) throw new ConfigError(`${at} must be an object`);
      onlyKnown(`${at}.`, service, SERVICE_FIELDS);
      for (const field of SERVICE_FIELDS) if (!(field in service)) throw new ConfigError(`${at}.${field} is missing`);
      requireMatch(`${at}.name`, service.name, RULES.serviceName, "use 1-20 lower-case letters and digits, starting with a letter");
      if (names.has(service.name)) throw new ConfigError(`${at}.name is ${JSON.stringify(service.name)}: another service already uses it`);
      names.add(service.name);
      requireMatch(`${at}.idParameter`, service.idParameter, RULES.idParameter, "a letter, then letters, digits or _");
      requireMatch(`${at}.path`, service.path, RULES.path, "use /segment/.../{idParameter}: fixed segments, then the parameter, last");
      if (!service.path.endsWith(`/{${service.idParameter}}`)) {
        throw new ConfigError(`${at}.path is ${JSON.stringify(service.path)}: it must end with /{${service.idParameter}} (the idParameter)`);
      }
      const methods = service.protectedMethods;
      if (!Array.isArray(methods) || methods.some((m) => !METHODS.includes(m)) || new Set(methods).size !== methods.length) {
        throw new ConfigError(`${at}.protectedMethods is ${JSON.stringify(methods)}: give a list of distinct methods from ${METHODS.join(", ")}`);
      }
    });

    return Object.freeze({
      region: raw.region,
      apiUrl: raw.apiUrl.replace(/\/+$/, ""),
      // Cognito's regional endpoint (AWS General Reference, "Amazon Cognito endpoints and quotas").
      cognitoEndpoint: raw.cognitoEndpoint || `https://cognito-idp.${raw.region}.amazonaws.com/`,
      userPoolId: raw.userPoolId,
      clientId: raw.clientId,
      passwordPolicy: Object.freeze({ ...policy }),
      services: Object.freeze(raw.services.map((s) => Object.freeze({ ...s, protectedMethods: [...s.protectedMethods] }))),
    });
  }

  async function loadConfig() {
    let response;
    try {
      response = await fetch("config.json", { cache: "no-store", credentials: "same-origin" });
    } catch (error) {
      throw new ConfigError(`config.json could not be fetched (${error.message})`);
    }
    if (!response.ok) throw new ConfigError(`config.json could not be fetched: HTTP ${response.status}. Put it beside index.html.`);
    let raw;
    try {
      raw = JSON.parse(await response.text());
    } catch (error) {
      throw new ConfigError(`config.json is not valid JSON (${error.message})`);
    }
    return validateConfig(raw);
  }

  // --- Cognito -------------------------------------------------------------------------------------

  class CognitoError extends Error {
    constructor(type, message) {
      super(message || type);
      this.type = type;
    }
  }

  // What a person should do about each Cognito error (Amazon Cognito API Reference, the Errors of
  // SignUp, ConfirmSignUp, ResendConfirmationCode, InitiateAuth and RevokeToken).
  const COGNITO_ADVICE = {
    UsernameExistsException: "An account with this email already exists: sign in, or confirm it with the emailed code.",
    InvalidPasswordException: "Cognito refused the password; it must meet every rule listed under the password.",
    CodeMismatchException: "That confirmation code is wrong: check the email, or resend the code.",
    ExpiredCodeException: "That confirmation code has expired: resend the code.",
    UserNotConfirmedException: "This account is not confirmed yet: enter the emailed code and press Confirm (or Resend code).",
    NotAuthorizedException: "Incorrect email or password.",
    UserNotFoundException: "Incorrect email or password.",
    TooManyRequestsException: "Too many requests to Cognito: wait a minute and try again.",
    UnsupportedOperationException: "The app client does not allow revoking tokens (EnableTokenRevocation is off).",
    LimitExceededException: "Too many attempts: wait a while and try again.",
    TooManyFailedAttemptsException: "Too many failed attempts: wait a while and try again.",
    CodeDeliveryFailureException: "Cognito could not send the code: check the email address.",
    NetworkError: "Cognito could not be reached: check the network (or the page's cognitoEndpoint setting).",
  };

  function explain(error) {
    if (!(error instanceof CognitoError)) return String(error && error.message ? error.message : error);
    const advice = COGNITO_ADVICE[error.type];
    return advice ? `${advice} (${error.type}${error.message && error.message !== error.type ? `: ${error.message}` : ""})`
      : `${error.type}: ${error.message}`;
  }

  function makeCognito(config) {
    /** POST one operation to the user pools JSON API; resolves with the parsed reply or throws CognitoError. */
    async function call(operation, body) {
      let response;
      try {
        response = await fetch(config.cognitoEndpoint, {
          method: "POST",
          headers: { "Content-Type": COGNITO_CONTENT_TYPE, "X-Amz-Target": COGNITO_TARGET_PREFIX + operation },
          body: JSON.stringify(body),
          cache: "no-store",
          credentials: "omit",
        });
      } catch (error) {
        throw new CognitoError("NetworkError", error.message);
      }
      const text = await response.text();
      let data = {};
      try {
        data = text ? JSON.parse(text) : {};
      } catch {
        data = { message: text.slice(0, 200) };
      }
      if (!response.ok) {
        // __type may carry a namespace ("...#NotAuthorizedException") or a suffix (":http://...").
        const type = String(data.__type || `HTTP ${response.status}`).split("#").pop().split(":")[0];
        throw new CognitoError(type, data.message || data.Message || `HTTP ${response.status}`);
      }
      return data;
    }

    const clientId = config.clientId;
    return {
      signUp: (email, password) => call("SignUp", {
        ClientId: clientId, Username: email, Password: password,
        UserAttributes: [{ Name: "email", Value: email }],
      }),
      confirmSignUp: (email, code) => call("ConfirmSignUp", { ClientId: clientId, Username: email, ConfirmationCode: code }),
      resendCode: (email) => call("ResendConfirmationCode", { ClientId: clientId, Username: email }),
      signIn: (email, password) => call("InitiateAuth", {
        ClientId: clientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
      refresh: (refreshToken) => call("InitiateAuth", {
        ClientId: clientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: refreshToken },
      }),
      // RevokeToken: this refresh token, and the access tokens it gave, no longer work with Cognito
      // (Amazon Cognito API Reference, "RevokeToken"); the client has no secret, so none is sent.
      revokeToken: (refreshToken) => call("RevokeToken", { ClientId: clientId, Token: refreshToken }),
    };
  }

  // --- Session -------------------------------------------------------------------------------------

  /** The claims of a JWT (unverified: only to read exp and email; the API verifies the signature). */
  function claims(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const json = atob(part + "=".repeat((4 - (part.length % 4)) % 4));
      return JSON.parse(decodeURIComponent(Array.from(json, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("")));
    } catch {
      return {};
    }
  }

  // sessionStorage, not localStorage: the tokens survive a reload of this tab, but go when the tab
  // closes and are never shared with other tabs, so a forgotten browser does not keep a 30-day
  // refresh token. The key names the app client, so two stacks' pages on one origin stay apart.
  function makeSession(config) {
    const key = SESSION_PREFIX + config.clientId;
    return {
      load() {
        try {
          const value = JSON.parse(sessionStorage.getItem(key));
          return value && value.accessToken && value.refreshToken ? value : null;
        } catch {
          return null;
        }
      },
      save(value) {
        sessionStorage.setItem(key, JSON.stringify(value));
      },
      clear() {
        sessionStorage.removeItem(key);
      },
    };
  }

  class SessionEnded extends Error {}

  function makeAuth(config, cognito, session, onChange) {
    let refreshing = null; // one refresh at a time, shared by every request that needs it

    function store(result, email, refreshToken) {
      const idClaims = claims(result.IdToken || "");
      const value = {
        email: idClaims.email || email,
        accessToken: result.AccessToken,
        idToken: result.IdToken,
        refreshToken: result.RefreshToken || refreshToken,
      };
      session.save(value);
      onChange(value);
      return value;
    }

    async function refresh() {
      const current = session.load();
      if (!current) throw new SessionEnded("You are signed out: sign in first.");
      if (!refreshing) {
        refreshing = cognito.refresh(current.refreshToken)
          .then((reply) => store(reply.AuthenticationResult, current.email, current.refreshToken))
          .catch((error) => {
            if (error instanceof CognitoError && error.type !== "NetworkError" && error.type !== "TooManyRequestsException") {
              session.clear();
              onChange(null);
              throw new SessionEnded(`Your session has ended (${error.type}): sign in again.`);
            }
            throw error;
          })
          .finally(() => { refreshing = null; });
      }
      return refreshing;
    }

    /** An access token valid for at least EXPIRY_MARGIN_SECONDS, refreshed first if needed; null when signed out. */
    async function accessToken() {
      const current = session.load();
      if (!current) return null;
      const exp = Number(claims(current.accessToken).exp) || 0;
      if (exp - EXPIRY_MARGIN_SECONDS > Date.now() / 1000) return current.accessToken;
      return (await refresh()).accessToken;
    }

    return {
      current: () => session.load(),
      accessToken,
      async refreshedToken() {
        return (await refresh()).accessToken;
      },
      async signIn(email, password) {
        const reply = await cognito.signIn(email, password);
        if (!reply.AuthenticationResult) {
          throw new CognitoError(reply.ChallengeName || "Challenge",
            `Cognito asks for ${reply.ChallengeName}, which this page does not support: complete it with another client.`);
        }
        return store(reply.AuthenticationResult, email, null);
      },
      /** Forget the tokens; revoke this session's refresh token at Cognito. False when there was no session. */
      async signOut() {
        const current = session.load();
        if (!current) {
          onChange(null);
          return false;
        }
        // Forgotten first: whatever Cognito answers, this page is signed out.
        session.clear();
        onChange(null);
        // RevokeToken revokes this refresh token only (other devices keep their sessions) and needs
        // no live access token. An access token already issued stays valid at the API until its
        // exp: API Gateway's JWT authorizer checks tokens offline.
        await cognito.revokeToken(current.refreshToken);
        return true;
      },
    };
  }

  // --- Password rules ------------------------------------------------------------------------------

  function passwordRules(policy) {
    const rules = [[`at least ${policy.minimumLength} characters`, (p) => p.length >= policy.minimumLength]];
    if (policy.requireLowercase) rules.push(["a lower-case letter (a-z)", (p) => /[a-z]/.test(p)]);
    if (policy.requireUppercase) rules.push(["an upper-case letter (A-Z)", (p) => /[A-Z]/.test(p)]);
    if (policy.requireNumbers) rules.push(["a number (0-9)", (p) => /[0-9]/.test(p)]);
    if (policy.requireSymbols) {
      rules.push([`a symbol: ${[...COGNITO_SYMBOLS].join(" ")} (or a space, not first or last)`,
        (p) => [...p].some((c) => COGNITO_SYMBOLS.includes(c)) || / /.test(p.trim())]);
    }
    return rules;
  }

  function showPasswordRules(policy) {
    const list = $("#password-rules");
    const rules = passwordRules(policy);
    const items = rules.map(([text]) => {
      const item = document.createElement("li");
      item.textContent = text;
      list.append(item);
      return item;
    });
    const update = () => {
      const password = $("#password").value;
      rules.forEach(([, met], index) => {
        const ok = password !== "" && met(password);
        items[index].classList.toggle("met", ok);
        items[index].dataset.met = String(ok);
      });
    };
    $("#password").addEventListener("input", update);
    update();
    return rules;
  }

  // --- The API forms -------------------------------------------------------------------------------

  const STATUS_ADVICE = {
    400: "Bad request (400): the API refused the id or the body.",
    403: "Forbidden (403): the token is not allowed to do this.",
    404: "Not found (404): no item has this id (or the API has no such route).",
    413: "Too large (413): the body is over the API's size limit (an item is at most 400 KB).",
    415: "Unsupported media type (415): the API wants Content-Type: application/json.",
    429: "Too many requests (429): the API is throttling; wait a moment and retry.",
    500: "The API failed (500): see the service's logs.",
    502: "Bad gateway (502): the API could not reach the service.",
    503: "Service unavailable (503): the service is down or starting; retry shortly.",
    504: "Gateway timeout (504): the service did not answer in time.",
  };

  function serverMessage(text) {
    try {
      const data = JSON.parse(text);
      return (data && data.error && data.error.message) || (data && data.message) || "";
    } catch {
      return "";
    }
  }

  function prettyBody(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }

  function buildServiceForm(service) {
    const fragment = $("#service-template").content.cloneNode(true);
    const section = $("section", fragment);
    section.dataset.service = service.name;
    const headingId = `service-${service.name}-heading`;
    section.setAttribute("aria-labelledby", headingId);
    $(".service-name", section).id = headingId;
    $(".service-name", section).textContent = service.name;
    $(".service-path code", section).textContent = service.path;
    $(".service-protection", section).textContent = service.protectedMethods.length
      ? `(${service.protectedMethods.join(" and ")} need${service.protectedMethods.length === 1 ? "s" : ""} sign-in)`
      : "(no sign-in needed)";
    const idInput = $("input[name=id]", section);
    idInput.id = `service-${service.name}-id`;
    $(".id-label", section).htmlFor = idInput.id;
    $(".id-label", section).textContent = `${service.idParameter} (id)`;
    const body = $("textarea[name=body]", section);
    body.id = `service-${service.name}-body`;
    $(".body-label", section).htmlFor = body.id;
    const output = $("output[data-role=status]", section);
    output.htmlFor = `${idInput.id} ${body.id}`;
    $("pre[data-role=body]", section).setAttribute("aria-label", `${service.name} response`);
    return section;
  }

  function makeServiceController(config, auth, service, section) {
    const status = $("output[data-role=status]", section);
    const bodyOut = $("pre[data-role=body]", section);
    const buttons = section.querySelectorAll("button[data-action]");

    function show(statusText, bodyText) {
      status.textContent = statusText;
      bodyOut.textContent = bodyText;
    }

    function fail(word, text) {
      show(word, text);
      say("error", `${service.name}: ${text}`);
    }

    async function send(method, url, body) {
      const protectedMethod = service.protectedMethods.includes(method);
      const headers = {};
      if (body !== undefined) headers["Content-Type"] = "application/json";
      // The token goes only where the route needs it: a public GET never carries it.
      let token = protectedMethod ? await auth.accessToken() : null;
      const attempt = (bearer) => fetch(url, {
        method,
        headers: bearer ? { ...headers, Authorization: `Bearer ${bearer}` } : headers,
        body,
        cache: "no-store",
        credentials: "omit",
      });
      let response = await attempt(token);
      if (response.status === 401 && token) {
        // The API refused a token we thought valid (revoked, clock skew): refresh once and retry once.
        token = await auth.refreshedToken();
        response = await attempt(token);
      }
      return { response, sentToken: Boolean(token) };
    }

    /** GET or PUT: "invalid" / "network" / "cors" / "expired" when nothing useful came back, else the status. */
    async function run(method) {
      const id = $("input[name=id]", section).value.trim();
      if (!id) return fail("invalid", `Enter the ${service.idParameter} first. Nothing was sent.`);
      let body;
      if (method === "PUT") {
        body = $("textarea[name=body]", section).value;
        try {
          JSON.parse(body);
        } catch (error) {
          return fail("invalid", `The body is not valid JSON (${error.message}). Nothing was sent.`);
        }
      }
      const url = config.apiUrl + service.path.replace(`{${service.idParameter}}`, encodeURIComponent(id));
      show("", `${method} ${url} …`);
      section.setAttribute("aria-busy", "true");
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const { response, sentToken } = await send(method, url, body);
        const text = await response.text();
        show(String(response.status), prettyBody(text));
        if (response.ok) {
          say("info", `${service.name}: ${method} ${id} answered ${response.status}.`);
        } else if (response.status === 401) {
          say("error", sentToken
            ? `${service.name}: the API refused the token even after a refresh (401): sign out and sign in again.`
            : `${service.name}: ${method} needs a signed-in user (401): sign in first.`);
        } else {
          const detail = serverMessage(text);
          const advice = STATUS_ADVICE[response.status] || `The API answered ${response.status}.`;
          say("error", `${service.name}: ${advice}${detail ? ` ${detail}` : ""}`);
        }
      } catch (error) {
        if (error instanceof SessionEnded) return fail("expired", error.message);
        if (error instanceof CognitoError) {
          // The session is kept: Cognito was unreachable or busy, the refresh token may still be good.
          return fail(error.type === "NetworkError" ? "network" : "expired", `The token could not be refreshed: ${explain(error)}`);
        }
        if (!(error instanceof TypeError)) throw error;
        // fetch rejects with a TypeError both when nothing answered and when CORS hid the answer.
        // An opaque (no-cors) GET tells them apart: it succeeds whenever the server answers at all.
        if (await answersAtAll(url)) {
          fail("cors", `The API answered, but its CORS settings do not allow this page's origin (${location.origin}).`);
        } else {
          fail("network", `The API at ${config.apiUrl} could not be reached (network error).`);
        }
      } finally {
        section.removeAttribute("aria-busy");
        buttons.forEach((b) => { b.disabled = false; });
      }
    }

    section.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) run(button.dataset.action.toUpperCase());
    });
    // Enter in the id field submits the form: make that a GET rather than a page load.
    $("form", section).addEventListener("submit", (event) => {
      event.preventDefault();
      run("GET");
    });
  }

  async function answersAtAll(url) {
    try {
      await fetch(url, { mode: "no-cors", cache: "no-store", credentials: "omit" });
      return true;
    } catch {
      return false;
    }
  }

  // --- The account form ----------------------------------------------------------------------------

  function showAuthStatus(value) {
    $("#auth-status").textContent = value ? `Signed in as ${value.email}` : "Signed out";
    document.body.dataset.signedIn = String(Boolean(value));
  }

  function wireAccount(config, cognito, auth) {
    const email = () => $("#email").value.trim();
    const password = () => $("#password").value;
    const buttons = document.querySelectorAll("#auth-form button");

    /** Run one account action with the buttons disabled; report its result or its error. */
    async function act(action) {
      buttons.forEach((b) => { b.disabled = true; });
      $("#account").setAttribute("aria-busy", "true");
      try {
        const message = await action();
        if (message) say("info", message);
      } catch (error) {
        say("error", explain(error));
      } finally {
        $("#account").removeAttribute("aria-busy");
        buttons.forEach((b) => { b.disabled = false; });
      }
    }

    function needEmail() {
      if (!email()) throw new Error("Enter your email address first.");
    }

    $("#sign-up").addEventListener("click", () => act(async () => {
      needEmail();
      const unmet = passwordRules(config.passwordPolicy).filter(([, met]) => !met(password())).map(([text]) => text);
      if (unmet.length) throw new Error(`The password still needs: ${unmet.join("; ")}.`);
      const reply = await cognito.signUp(email(), password());
      if (reply.UserConfirmed) return `Account ${email()} created and already confirmed: sign in.`;
      const where = reply.CodeDeliveryDetails && reply.CodeDeliveryDetails.Destination;
      return `Account created. Enter the code sent to ${where || "your email"} and press Confirm.`;
    }));

    $("#confirm").addEventListener("click", () => act(async () => {
      needEmail();
      const code = $("#code").value.trim();
      if (!code) throw new Error("Enter the confirmation code from the email first.");
      await cognito.confirmSignUp(email(), code);
      $("#code").value = "";
      return `Account ${email()} confirmed: sign in.`;
    }));

    $("#resend").addEventListener("click", () => act(async () => {
      needEmail();
      const reply = await cognito.resendCode(email());
      const where = reply.CodeDeliveryDetails && reply.CodeDeliveryDetails.Destination;
      return `A new code was sent to ${where || "your email"}.`;
    }));

    $("#auth-form").addEventListener("submit", (event) => {
      event.preventDefault();
      act(async () => {
        needEmail();
        if (!password()) throw new Error("Enter your password first.");
        const value = await auth.signIn(email(), password());
        $("#password").value = "";
        $("#password").dispatchEvent(new Event("input"));
        return `Signed in as ${value.email}.`;
      });
    });

    $("#sign-out").addEventListener("click", () => act(async () => {
      try {
        return (await auth.signOut()) ? "Signed out." : "You were not signed in.";
      } catch (error) {
        throw new Error(`Signed out of this page, but Cognito could not revoke the session: ${explain(error)}`);
      }
    }));
  }

  // --- Start -----------------------------------------------------------------------------------------

  async function start() {
    let config;
    try {
      config = await loadConfig();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      say("error", `This page is not configured: ${error.message}`);
      document.body.dataset.config = "invalid";
      document.querySelectorAll("#auth-form input, #auth-form button").forEach((e) => { e.disabled = true; });
      return;
    }
    const cognito = makeCognito(config);
    const session = makeSession(config);
    const auth = makeAuth(config, cognito, session, showAuthStatus);
    showPasswordRules(config.passwordPolicy);
    const container = $("#services");
    for (const service of config.services) {
      const section = buildServiceForm(service);
      container.append(section);
      makeServiceController(config, auth, service, section);
    }
    wireAccount(config, cognito, auth);
    showAuthStatus(auth.current());
    document.body.dataset.config = "ready";
  }

  start();
})();
