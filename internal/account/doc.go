// Package account owns people with an account (members): their profile,
// who controls their data by where they live, whether they are a child,
// and the rules every profile field must meet. It knows nothing of HTTP or
// SQL.
package account
