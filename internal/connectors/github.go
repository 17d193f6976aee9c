package connectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// githubUpstream signs in with GitHub's OAuth apps (OAuth2, not OpenID
// Connect) and reads the person from its REST API: /user, the verified
// primary address from /user/emails, organisations from /user/orgs and
// teams from /user/teams.
type githubUpstream struct {
	id           string
	clientID     string
	clientSecret string
	s            Settings
	client       *http.Client
}

func (u *githubUpstream) urls() (authURL, tokenURL, apiURL string) {
	if u.s.BaseURL == "" {
		return "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token", "https://api.github.com"
	}
	base := strings.TrimSuffix(u.s.BaseURL, "/")
	// GitHub Enterprise Server serves its REST API under /api/v3.
	return base + "/login/oauth/authorize", base + "/login/oauth/access_token", base + "/api/v3"
}

func (u *githubUpstream) config(redirectURL string) *oauth2.Config {
	authURL, tokenURL, _ := u.urls()
	scopes := u.s.Scopes
	if len(scopes) == 0 {
		scopes = []string{"read:user", "user:email"}
		if len(u.s.Orgs) > 0 || u.s.LoadTeams {
			scopes = append(scopes, "read:org")
		}
	}
	return &oauth2.Config{
		ClientID: u.clientID, ClientSecret: u.clientSecret, RedirectURL: redirectURL, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
}

func (u *githubUpstream) authURL(_ context.Context, f Flow, redirectURL string) (string, error) {
	return u.config(redirectURL).AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier)), nil
}

type githubUser struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
}

type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

type githubOrg struct {
	Login string `json:"login"`
}

type githubTeam struct {
	Slug         string    `json:"slug"`
	Organization githubOrg `json:"organization"`
}

func (u *githubUpstream) identify(ctx context.Context, f Flow, code, redirectURL string) (Identity, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, u.client)
	tok, err := u.config(redirectURL).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return Identity{}, classify(u.id, fmt.Errorf("code exchange: %w", err))
	}
	_, _, api := u.urls()
	var user githubUser
	if _, err := getJSON(ctx, u.client, api+"/user", tok.AccessToken, &user); err != nil {
		return Identity{}, classify(u.id, err)
	}
	if user.ID == 0 {
		return Identity{}, fail(KindInvalid, u.id, errors.New("/user without id"))
	}
	var emails []githubEmail
	if err := getPages(ctx, u.client, api+"/user/emails", tok.AccessToken, &emails); err != nil {
		return Identity{}, classify(u.id, err)
	}
	id := Identity{
		// The numeric id, not the login: logins can be renamed and reused.
		Subject:  strconv.FormatInt(user.ID, 10),
		Name:     strings.TrimSpace(user.Name),
		Username: user.Login,
		Claims:   map[string][]string{"login": {user.Login}},
	}
	for _, e := range emails {
		if e.Primary {
			id.Email, id.EmailVerified = e.Email, e.Verified
		}
	}
	if len(u.s.Orgs) > 0 || u.s.LoadTeams {
		var orgs []githubOrg
		if err := getPages(ctx, u.client, api+"/user/orgs", tok.AccessToken, &orgs); err != nil {
			return Identity{}, classify(u.id, err)
		}
		var teams []githubTeam
		if err := getPages(ctx, u.client, api+"/user/teams", tok.AccessToken, &teams); err != nil {
			return Identity{}, classify(u.id, err)
		}
		for _, o := range orgs {
			id.Claims["orgs"] = appendFold(id.Claims["orgs"], o.Login)
		}
		for _, t := range teams {
			id.Claims["orgs"] = appendFold(id.Claims["orgs"], t.Organization.Login)
			id.Claims["teams"] = append(id.Claims["teams"], t.Organization.Login+"/"+t.Slug)
		}
	}
	if len(u.s.Orgs) > 0 && !slices.ContainsFunc(u.s.Orgs, func(o string) bool {
		return slices.ContainsFunc(id.Claims["orgs"], func(m string) bool { return strings.EqualFold(o, m) })
	}) {
		return Identity{}, fail(KindNotAllowed, u.id, fmt.Errorf("github user %s is in none of the allowed organisations", user.Login))
	}
	return id, nil
}

func appendFold(list []string, v string) []string {
	if v == "" || slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) }) {
		return list
	}
	return append(list, v)
}

var nextLink = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// getPages reads a list endpoint page by page (GitHub's Link header), at
// most ten pages of 100.
func getPages[T any](ctx context.Context, client *http.Client, rawURL, token string, out *[]T) error {
	next := rawURL + "?per_page=100"
	for range 10 {
		var page []T
		hdr, err := getJSON(ctx, client, next, token, &page)
		if err != nil {
			return err
		}
		*out = append(*out, page...)
		m := nextLink.FindStringSubmatch(hdr.Get("Link"))
		if m == nil {
			return nil
		}
		// Follow only links on the same API.
		if !strings.HasPrefix(m[1], strings.SplitN(rawURL, "/user", 2)[0]+"/") {
			return nil
		}
		next = m[1]
	}
	return nil
}
