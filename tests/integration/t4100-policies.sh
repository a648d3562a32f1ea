#!/bin/bash
test_description='ValidatingAdmissionPolicy: push to the system repository, Deny/Warn/Audit, failurePolicy, hot reload'
. "$(dirname "$0")/lib/test-lib.sh"

policy () { # policy NAME ACTIONS FAILURE-POLICY MATCH-CONDITION VALIDATION [MESSAGE]
	cat <<-EOF
	---
	apiVersion: admission.gitstore.dev/v1beta1
	kind: ValidatingAdmissionPolicy
	metadata:
	  name: $1
	spec:
	  failurePolicy: $3
	  matchConstraints:
	    kinds: [Product]
	    operations: [CREATE, UPDATE]
	  matchConditions:
	    - name: cond
	      expression: "$4"
	  validations:
	    - expression: "$5"
	      message: "${6:-$1 failed}"
	  validationActions: [$2]
	---
	EOF
}

product () { # product NAME TITLE [LABEL-LINES...]
	local name=$1 title=$2
	shift 2
	printf -- '---\napiVersion: catalog.gitstore.dev/v1beta1\nkind: Product\nmetadata:\n  name: %s\n  labels:\n    app: shop\n' "$name"
	printf '    %s\n' "$@"
	printf 'spec:\n  title: %s\n---\n' "$title"
}

push_sys () { # push_sys MESSAGE: commits work-sys and pushes it as admin
	git -C sys add -A && git -C sys commit -q -m "$1" && git -C sys push -q "$SYS" HEAD:main
}

push_cat () { # push_cat MESSAGE: commits and pushes the catalog; output in push.out
	git -C cat add -A && git -C cat commit -q -m "$1" && N=$(ev_head) &&
	git -C cat push "$CAT" HEAD:main >push.out 2>&1 && wait_admitted
}

wait_admitted () {
	local i=0
	while test $i -lt 100
	do
		test "$(gs_events --after "$N" --type catalog-namespace-target | wc -l)" -ge 1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

verdict () { # verdict NAME: the last admission event's data for Product NAME
	gs_events --type catalog-admission-evaluated | jq -c "select(.subject == \"Product/shop/$1\") | .data" | tail -n 1
}

test_expect_success 'setup' '
	gitstore namespace create shop --data "$GITSTORE_DATA" &&
	gitstore repo create shop/catalog --data "$GITSTORE_DATA" &&
	start_gitstore &&
	TOKEN=$(gs_admin_token) &&
	WRITER=$(gs_token wes writer:shop) &&
	SYS=$(gs_url_with_token "$TOKEN" shop/gitstore-system) &&
	CAT=$(gs_url_with_token "$WRITER" shop/catalog) &&
	git init -q sys && mkdir -p sys/policies && git init -q cat && mkdir -p cat/products
'

test_expect_success 'a policy whose expression does not compile refuses the push, naming file and position' '
	policy broken Deny Fail "true" "object.spec.title.size( <= 10" >sys/policies/broken.md &&
	git -C sys add -A && git -C sys commit -q -m broken &&
	test_must_fail git -C sys push "$SYS" HEAD:main 2>err &&
	grep "policies/broken.md:[0-9]*: spec.validations\[0\].expression: 1:[0-9]*: .*\[invalid_expression\]" err &&
	git -C sys rm -q policies/broken.md && git -C sys commit -q -m "drop broken"
'

test_expect_success 'a policy outside policies/ or in a catalog repository is refused' '
	policy stray Deny Fail "true" "true" >cat/products/stray.md &&
	git -C cat add -A && git -C cat commit -q -m stray &&
	test_must_fail git -C cat push "$CAT" HEAD:main 2>err &&
	grep "policy_location" err &&
	git -C cat reset -q --hard HEAD^ 2>/dev/null || { git -C cat rm -q products/stray.md && git -C cat commit -q -m x; }
'

test_expect_success 'valid policies land on the system repository' '
	mkdir -p sys/policies &&
	policy title-max Deny Fail "true" "object.spec.title.size() <= 10" "title longer than 10" >sys/policies/title.md &&
	policy team-label "Warn, Audit" Fail "true" "\x27team\x27 in object.metadata.labels" "add a team label" >sys/policies/team.md &&
	policy audit-only Audit Fail "true" "object.spec.title != \x27Audit me\x27" "audited" >sys/policies/audit.md &&
	policy strict-fail Deny Fail "has(object.metadata.labels.strict)" "object.spec.nothere == 1" >sys/policies/strict.md &&
	policy lenient-ignore Deny Ignore "has(object.metadata.labels.lenient)" "object.spec.nothere == 1" >sys/policies/lenient.md &&
	push_sys policies &&
	curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/events?type=catalog-admission-evaluated" |
		jq -e "[.[] | select(.data.resource.kind == \"ValidatingAdmissionPolicy\" and .data.allowed)] | length == 5"
'

test_expect_success 'Deny: the version is denied; the error record and admissionFailure name the policy' '
	mkdir -p cat/products &&
	product long-one "A title that is long" "team: a" >cat/products/long-one.md &&
	push_cat long &&
	verdict long-one >v.json &&
	jq -e ".allowed == false and .status.code == 422 and .status.reason == \"Invalid\" and .errors[0].policy == \"title-max\" and .errors[0].code == \"policy_denied\" and (.policies[] | select(.name == \"title-max\") | .result == \"fail\" and .action == \"Deny\")" v.json &&
	curl -s -H "Authorization: Bearer $TOKEN" "$GITSTORE_URL/api/v1/namespaces/shop/products/long-one" |
		jq -e ".status.admissionFailure.policy == \"title-max\"" &&
	grep "will be denied: products/long-one.md: policy title-max: title longer than 10" push.out
'

test_expect_success 'Warn: allowed with a warning, printed to the pusher as a remote: line' '
	product nolabel Short >cat/products/nolabel.md &&
	push_cat nolabel &&
	grep "remote: gitstore: warning: products/nolabel.md: policy team-label: add a team label" push.out &&
	verdict nolabel >v.json &&
	jq -e ".allowed == true and .warnings == [\"team-label: add a team label\"] and (.policies[] | select(.name == \"team-label\") | .result == \"fail\")" v.json
'

test_expect_success 'Audit: only recorded' '
	product audited "Audit me" "team: a" >cat/products/audited.md &&
	push_cat audited &&
	verdict audited >v.json &&
	jq -e ".allowed == true and .warnings == [] and (.policies[] | select(.name == \"audit-only\") | .result == \"fail\" and .action == \"Audit\")" v.json &&
	! grep audited push.out | grep -q "policy audit-only"
'

test_expect_success 'matchConditions select; failurePolicy Fail denies on an evaluation error, Ignore does not' '
	product strict-one Strict "team: a" "strict: \"yes\"" >cat/products/strict-one.md &&
	product lenient-one Lenient "team: a" "lenient: \"yes\"" >cat/products/lenient-one.md &&
	push_cat conditions &&
	verdict strict-one >s.json && verdict lenient-one >l.json &&
	jq -e ".allowed == false and .status.code == 422 and (.policies[] | select(.name == \"strict-fail\") | .result == \"fail\")" s.json &&
	jq -e ".allowed == true and (.policies[] | select(.name == \"lenient-ignore\") | .result == \"error\")" l.json &&
	verdict nolabel | jq -e "[.policies[].name] | index(\"strict-fail\") == null"
'

test_expect_success 'hot reload: a changed policy applies to the next admission, no restart' '
	policy title-max Deny Fail "true" "object.spec.title.size() <= 40" "title longer than 40" >sys/policies/title.md &&
	push_sys relax &&
	product long-two "A title that is long" "team: a" >cat/products/long-two.md &&
	push_cat long-two &&
	verdict long-two | jq -e ".allowed == true" &&
	git -C sys rm -q policies/title.md && push_sys "drop title" &&
	product long-three "$(printf "%060d" 0)" "team: a" >cat/products/long-three.md &&
	push_cat long-three &&
	verdict long-three | jq -e ".allowed == true and ([.policies[].name] | index(\"title-max\") == null)"
'

test_expect_success 'Git and API writes get the same policy verdict' '
	policy title-max Deny Fail "true" "object.spec.title.size() <= 10" "title longer than 10" >sys/policies/title.md &&
	push_sys "title again" &&
	product via-git "Much too long title" >cat/products/via-git.md &&
	push_cat via-git &&
	product via-api "Much too long title" >via-api.md &&
	curl -s -X PUT -H "Authorization: Bearer $WRITER" -H "Content-Type: text/markdown" --data-binary @via-api.md \
		"$GITSTORE_URL/api/v1/repos/shop/catalog/resources/products/via-api" >api.json &&
	jq -S -c ".admission | del(.uid)" api.json >api.verdict &&
	verdict via-git | jq -S -c "{allowed, status, errors, warnings, policies, conditions}" >git.verdict &&
	test_cmp git.verdict api.verdict &&
	jq -e ".allowed == false and (.warnings | length) == 1" git.verdict
'

test_expect_success 'request.user is the pusher, in the pre-receive preview as in admission' '
	policy who-warn Warn Fail "true" "!(request.user.name == \x27wes\x27 && \x27writer\x27 in request.user.roles)" "wes is watched" >sys/policies/who.md &&
	push_sys who &&
	git -C cat pull -q --rebase "$CAT" main &&
	product watched Short "team: a" >cat/products/watched.md &&
	push_cat watched &&
	grep "remote: gitstore: warning: products/watched.md: policy who-warn: wes is watched" push.out &&
	verdict watched | jq -e ".warnings | index(\"who-warn: wes is watched\") != null" &&
	git -C sys rm -q policies/who.md && push_sys "drop who"
'

test_expect_success 'dry-run review reports the policies too' '
	curl -s -H "Authorization: Bearer $WRITER" -H "Content-Type: text/markdown" --data-binary @via-api.md \
		"$GITSTORE_URL/api/v1/admission/review?repo=shop/catalog" >review.json &&
	jq -e ".response.allowed == false and .response.errors[0].policy == \"title-max\"" review.json
'

test_expect_success 'gitstore policy test: offline, exit 1 when denied' '
	product ok-one Short "team: a" >ok.md &&
	gitstore policy test --namespace shop sys/policies/title.md ok.md >out &&
	grep "ok.md: allowed" out &&
	test_must_fail gitstore policy test --namespace shop sys/policies/title.md ok.md via-api.md >out &&
	grep "via-api.md: denied (422 Invalid) by policy title-max: title longer than 10" out &&
	gitstore policy test sys/policies/team.md via-api.md >out &&
	grep "via-api.md: warning: team-label: add a team label" out &&
	policy broken Deny Fail "true" "1 +" >broken.md &&
	test_must_fail gitstore policy test broken.md ok.md >out &&
	grep "invalid_expression" out &&
	test_expect_code 2 gitstore policy test sys/policies/title.md
'

test_expect_success 'events validate' '
	gs_events >all && check_cloudevents all
'

test_done
