package accounts

import (
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
)

// The texts of the mails accounts send. Links and the site's address are
// passed in, so each function is the whole message and nothing else. A
// link that carries a token is named in Secrets, which keeps it out of
// what staff may read of the message.

func signUpTakenMail(a account.Account, base string) mail.Message {
	return mail.Message{
		PersonID: a.ID, Template: "account.signup-taken", To: a.Email,
		Subject: "Someone tried to create an account with your address",
		Text: "Someone tried to create a Sessions account with this e-mail address, which already has one.\n\n" +
			"If it was you, sign in: " + base + "/signin\n" +
			"If you forgot your password, reset it: " + base + "/forgot-password\n\n" +
			"If it was not you, you can ignore this message; nothing has changed.\n",
	}
}

func verifyMail(a account.Account, link string) mail.Message {
	return mail.Message{
		PersonID: a.ID, Template: "account.verify-email", To: a.Email,
		Subject: "Confirm your e-mail address",
		Text: "Please confirm that this is your e-mail address for Sessions by opening this link:\n\n" +
			link + "\n\n" +
			"The link works once, for 48 hours. If you did not create an account, ignore this message.\n",
		Secrets: []string{link},
	}
}

func resetMail(a account.Account, link string) mail.Message {
	return mail.Message{
		PersonID: a.ID, Template: "account.reset-password", To: a.Email,
		Subject: "Reset your Sessions password",
		Text: "Someone asked to reset the password of the Sessions account with this address.\n\n" +
			"To choose a new password, open this link:\n\n" + link + "\n\n" +
			"The link works once, for one hour. Choosing a new password signs you out everywhere.\n" +
			"If you did not ask for this, ignore this message; your password stays as it is.\n",
		Secrets: []string{link},
	}
}

func passwordChangedMail(a account.Account, base string) mail.Message {
	return mail.Message{
		PersonID: a.ID, Template: "account.password-changed", To: a.Email,
		Subject: "Your Sessions password was changed",
		Text: "The password of your Sessions account was just changed, other devices were signed out and your personal API tokens were revoked.\n\n" +
			"If this was not you, reset your password at once: " + base + "/forgot-password\n",
	}
}

func emailTakenMail(other account.Account, base string) mail.Message {
	return mail.Message{
		PersonID: other.ID, Template: "account.email-change-taken", To: other.Email,
		Subject: "Someone tried to move an account to your address",
		Text: "Someone asked to change the address of a Sessions account to this one, which already has an account.\n" +
			"Nothing has changed. If it was you, sign in with this address instead: " + base + "/signin\n",
	}
}

func changeEmailMail(accountID, newEmail, link string) mail.Message {
	return mail.Message{
		PersonID: accountID, Template: "account.change-email", To: newEmail,
		Subject: "Confirm your new e-mail address",
		Text: "Please confirm that Sessions should use this address for your account by opening this link:\n\n" +
			link + "\n\nThe link works once, for 24 hours. If you did not ask for this, ignore this message.\n",
		Secrets: []string{link},
	}
}

func emailChangedMail(a account.Account, base string) mail.Message {
	return mail.Message{
		PersonID: a.ID, Template: "account.email-changed", To: a.Email,
		Subject: "Your Sessions address was changed",
		Text: "The e-mail address of your Sessions account was changed, and this address is no longer used for it.\n\n" +
			"If this was not you, reset your password at once: " + base + "/forgot-password\n",
	}
}

func securityNotice(a account.Account, subject, what, base string) mail.Message {
	return mail.Message{
		PersonID: a.ID, Template: "account.security-notice", To: a.Email, Subject: subject,
		Text: what + "\n\nIf this was not you, reset your password at once: " + base + "/forgot-password\n",
	}
}

func secondStepLockedMail(a account.Account, p ratelimit.Policy, base string) mail.Message {
	return mail.Message{
		PersonID: a.ID, Template: "account.second-step-locked", To: a.Email,
		Subject: "Wrong sign-in codes were entered for your Sessions account",
		Text: "A wrong two-step sign-in code was entered " + strconv.Itoa(p.Limit) + " times for your Sessions account, " +
			"after your password was entered correctly or in a signed-in session. " +
			"Codes are refused for the next " + strconv.Itoa(int(p.Lockout/time.Minute)) + " minutes.\n\n" +
			"If this was you, wait, then use a fresh code from your app or a recovery code.\n" +
			"If it was not you, someone else knows your password: reset it at once, which also signs out every device: " +
			base + "/forgot-password\n",
	}
}

func guardianMail(childName, to, link string) mail.Message {
	return mail.Message{
		Category: mail.Transactional, Template: "account.guardian-confirm", To: to,
		Subject: "Please confirm a young person's Sessions account",
		Text: "Hello,\n\n" + childName + " opened an account on Sessions, an online meeting platform, and gave this address as that of a parent or guardian.\n\n" +
			"Because of their age, marketing, analytics, recordings and AI features stay off on their account until a parent or guardian agrees. " +
			"The page behind this link explains what you would agree to; nothing changes unless you confirm there:\n\n" + link + "\n\n" +
			"The link works for seven days. If you do not know this person or do not agree, ignore this message.\n",
		Secrets: []string{link},
	}
}

func deactivatedMail(to string, days int, base string) mail.Message {
	return mail.Message{
		Category: mail.Transactional, Template: "account.deactivated", To: to,
		Subject: "Your Sessions account is deactivated",
		Text: "Hello,\n\nYour Sessions account was deactivated and signed out everywhere. Other people no longer see it.\n\n" +
			"To bring it back, sign in within " + strconv.Itoa(days) + " days at " + base + "/signin .\n\n" +
			"If you did not do this, sign in and change your password.\n",
	}
}

func erasureReceivedMail(to, requestID string, due time.Time, base string) mail.Message {
	return mail.Message{
		Category: mail.Transactional, Template: "account.erasure-received", To: to,
		Subject: "We received your request to delete your Sessions account",
		Text: "Hello,\n\nWe received your request to delete your Sessions account (reference " + requestID + ").\n\n" +
			"Your account is deactivated and signed out everywhere until the deletion is carried out, at the latest by " +
			due.Format("2 January 2006") + ". Some records we must keep by law stay, without your name; the privacy centre at " +
			base + "/privacy explains which and for how long.\n\nIf you did not ask for this, reply to this message.\n",
	}
}
