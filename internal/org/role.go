// Package org owns organisations (workspaces): the roles a member may hold
// in one, what each role may do, the rules that keep every organisation
// with an owner, and the checks that names, colours, logos and invited
// addresses must pass, and the invitation e-mail. It knows nothing of HTTP
// or SQL; the organisations service (internal/service/orgs) applies these
// rules inside its transactions, and internal/store keeps the rows.
package org

import "github.com/sessionshq/sessions/internal/errs"

// Role is what a member may do in an organisation.
type Role string

const (
	// Owner holds the organisation: besides everything an admin does, an
	// owner grants and takes away ownership, accepts the DPA on the
	// organisation's behalf and deletes it.
	Owner Role = "owner"
	// Admin runs the membership and the branding.
	Admin Role = "admin"
	// Member takes part and sees who else belongs.
	Member Role = "member"
	// Guest is someone from outside, such as a client, who takes part in
	// what they are invited to and sees no one else's membership.
	Guest Role = "guest"
)

// Roles lists every role, the most powerful first.
var Roles = []Role{Owner, Admin, Member, Guest}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case Owner, Admin, Member, Guest:
		return true
	}
	return false
}

// Label is the role's name for people.
func (r Role) Label() string {
	switch r {
	case Owner:
		return "Owner"
	case Admin:
		return "Admin"
	case Member:
		return "Member"
	case Guest:
		return "Guest"
	}
	return string(r)
}

// Action is something a member may ask to do in an organisation.
type Action string

const (
	// View is seeing the organisation's name, branding and one's own role.
	View Action = "view"
	// ViewMembers is seeing who else belongs and in which role.
	ViewMembers Action = "view-members"
	// ViewDPA is seeing whether and when the DPA was accepted.
	ViewDPA Action = "view-dpa"
	// Edit is renaming and branding: name, colour and logo.
	Edit Action = "edit"
	// ManageMembers is seeing members' addresses and pending invitations,
	// inviting, revoking invitations, changing roles below owner and
	// removing members who are not owners.
	ManageMembers Action = "manage-members"
	// ManageOwners is granting or taking away ownership: inviting someone
	// as an owner, making a member an owner, demoting or removing an owner.
	ManageOwners Action = "manage-owners"
	// AcceptDPA is accepting the Data Processing Addendum on the
	// organisation's behalf.
	AcceptDPA Action = "accept-dpa"
	// Delete is deleting the organisation with everything in it.
	Delete Action = "delete"
	// Leave is giving up one's own membership.
	Leave Action = "leave"
)

// Actions lists every action, for tests and documentation.
var Actions = []Action{View, ViewMembers, ViewDPA, Edit, ManageMembers, ManageOwners, AcceptDPA, Delete, Leave}

// allowed is the whole policy: which roles may take each action. Owners
// and admins run the membership; only owners touch ownership, the DPA and
// the organisation's existence; guests see nothing of other people.
var allowed = map[Action][]Role{
	View:          {Owner, Admin, Member, Guest},
	ViewMembers:   {Owner, Admin, Member},
	ViewDPA:       {Owner, Admin, Member},
	Edit:          {Owner, Admin},
	ManageMembers: {Owner, Admin},
	ManageOwners:  {Owner},
	AcceptDPA:     {Owner},
	Delete:        {Owner},
	Leave:         {Owner, Admin, Member, Guest},
}

// Can reports whether a member holding role may take action. An unknown
// role or action may do nothing.
func Can(role Role, action Action) bool {
	for _, r := range allowed[action] {
		if r == role {
			return true
		}
	}
	return false
}

// Require returns a Forbidden error unless role may take action.
func Require(role Role, action Action) error {
	if Can(role, action) {
		return nil
	}
	return errs.E(errs.Forbidden, "your role in this organisation does not allow this")
}

// lastOwner is the refusal whenever a change would leave an organisation
// without an owner, who alone can accept its DPA or delete it.
func lastOwner() error {
	return errs.E(errs.Conflict, "an organisation needs at least one owner: make another member an owner first")
}

// CheckInvite decides whether actor may invite someone as role.
func CheckInvite(actor, role Role) error {
	if err := Require(actor, ManageMembers); err != nil {
		return err
	}
	if role == Owner {
		return requireOwners(actor)
	}
	return nil
}

// CheckRoleChange decides whether actor may change a member's role from
// `from` to `to`, given how many owners the organisation has now. Actors
// may change their own role by the same rules.
func CheckRoleChange(actor, from, to Role, owners int) error {
	if err := Require(actor, ManageMembers); err != nil {
		return err
	}
	if from == to {
		return nil
	}
	if from == Owner || to == Owner {
		if err := requireOwners(actor); err != nil {
			return err
		}
	}
	if from == Owner && owners <= 1 {
		return lastOwner()
	}
	return nil
}

// CheckRemoval decides whether actor may remove a member holding target
// from the organisation. Removing oneself is leaving: see CheckLeave.
func CheckRemoval(actor, target Role, owners int) error {
	if err := Require(actor, ManageMembers); err != nil {
		return err
	}
	if target == Owner {
		if err := requireOwners(actor); err != nil {
			return err
		}
		if owners <= 1 {
			return lastOwner()
		}
	}
	return nil
}

// CheckLeave decides whether a member holding role may leave: anyone may,
// except the last owner.
func CheckLeave(role Role, owners int) error {
	if err := Require(role, Leave); err != nil {
		return err
	}
	if role == Owner && owners <= 1 {
		return lastOwner()
	}
	return nil
}

func requireOwners(actor Role) error {
	if Can(actor, ManageOwners) {
		return nil
	}
	return errs.E(errs.Forbidden, "only an owner can grant or take away ownership")
}
