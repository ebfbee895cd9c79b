package web

import (
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// Helpers kept only for the handlers of features that still call them
// while those move into their services (marketing: the audit parties).
// Delete each once its last caller has moved; nothing new should call
// them.

func memberActor(id string) audit.Party { return audit.Party{Kind: "member", ID: id} }

// anonymousParty is the actor of changes made through an e-mailed link or
// before sign-in, where only the link proves who acts.
var anonymousParty = audit.Party{Kind: "anonymous"}
