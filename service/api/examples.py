"""Named, realistic examples for the docs page (Swagger UI's example picker)."""

from __future__ import annotations

from typing import Any

_WMP_OFFICER = {
    "id": "PCSO 4521",
    "designated_powers": ["require_name_address", "alcohol.confiscate_young_person", "dispersal_direction"],
    "training_status": "independent",
    "in_uniform": True,
    "authorised_driver": False,
    "cycle_trained": True,
    "home_lpa": "birmingham-west",
    "home_neighbourhood": "ladywood",
}
_WMP_LOCATION = {"risk_level": "low", "markers": [], "setting": "urban", "lpa": "birmingham-west", "neighbourhood": "ladywood"}


def _example(summary: str, description: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"summary": summary, "description": description, "value": value}


ASSESSMENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "asb_deployable": _example(
        "ASB call, deployable with powers",
        "Youths drinking outside shops; a vulnerable person is mentioned. Deployable with a safeguarding condition; "
        "the officer's dispersal and alcohol powers are listed as available.",
        {
            "force": "west-midlands",
            "task": "attend",
            "call": {
                "type": "asb.nuisance",
                "reference": "WMP-20261122-0412",
                "phase": "in_progress",
                "grade": "priority",
                "flags": ["vulnerable_person"],
                "description": "Group of youths drinking and shouting outside the shops",
            },
            "location": _WMP_LOCATION,
            "officer": _WMP_OFFICER,
        },
    ),
    "knife_crime_refused": _example(
        "Knife crime, refused (WMP 2.8.3)",
        "A knife crime incident in progress is not a PCSO first response; the answer offers support tasks once officers secure the scene.",
        {
            "force": "west-midlands",
            "task": "attend",
            "call": {
                "type": "violence.knife_crime",
                "reference": "WMP-20261122-0413",
                "phase": "in_progress",
                "grade": "emergency",
                "flags": ["weapon_reported"],
                "description": "Caller reports a man waving a knife outside the chip shop",
            },
            "location": {**_WMP_LOCATION, "risk_level": "high"},
            "officer": _WMP_OFFICER,
        },
    ),
    "burglary_house_to_house": _example(
        "Burglary after the scene is secured, house-to-house allowed (WMP 2.8.2)",
        "Officers have secured a burglary scene; a PCSO may support with house-to-house enquiries under their direction.",
        {
            "force": "west-midlands",
            "task": "house_to_house",
            "call": {
                "type": "serious.burglary_in_progress",
                "reference": "WMP-20261122-0388",
                "phase": "scene_secured",
                "grade": "priority",
            },
            "location": _WMP_LOCATION,
            "officer": _WMP_OFFICER,
        },
    ),
    "officer_in_coaching": _example(
        "Officer in coaching",
        "A low-value theft report for a PCSO in their five weeks of coaching: deployable only with their coach.",
        {
            "force": "west-midlands",
            "task": "attend",
            "call": {"type": "crime.theft_low_value", "reference": "WMP-20261122-0420", "phase": "recent", "grade": "scheduled"},
            "location": _WMP_LOCATION,
            "officer": {
                **_WMP_OFFICER,
                "id": "PCSO 5102",
                "training_status": "coaching",
                "designated_powers": ["require_name_address"],
            },
        },
    ),
    "kent_not_in_uniform": _example(
        "Kent officer not in uniform",
        "Kent PCSOs are only empowered in the approved uniform (O38b 4.2.8): referred to a supervisor, powers suspended.",
        {
            "force": "kent",
            "task": "attend",
            "call": {
                "type": "asb.street_drinking",
                "reference": "KEN-20261122-0077",
                "phase": "in_progress",
                "grade": "priority",
            },
            "location": {
                "risk_level": "low",
                "markers": [],
                "setting": "urban",
                "lpa": "maidstone",
                "neighbourhood": "town-centre",
            },
            "officer": {
                "id": "PCSO 61234",
                "designated_powers": ["alcohol.pspo_surrender", "require_name_address"],
                "training_status": "independent",
                "in_uniform": False,
                "authorised_driver": True,
                "cycle_trained": False,
                "home_lpa": "maidstone",
                "home_neighbourhood": "town-centre",
            },
        },
    ),
    "unknown_call_type": _example(
        "Unknown call type referred",
        "A call-type code that is not in the force's catalogue is referred to a supervisor, never allowed.",
        {
            "force": "west-midlands",
            "task": "attend",
            "call": {"type": "animal.stray_livestock", "reference": "WMP-20261122-0431", "phase": "in_progress"},
            "location": {**_WMP_LOCATION, "setting": "rural"},
            "officer": _WMP_OFFICER,
        },
    ),
}


ESCALATION_EXAMPLES: dict[str, dict[str, Any]] = {
    "weapon_seen": _example(
        "A weapon is now seen: withdraw",
        "The PCSO reports a knife at an ASB call they were sent to; the answer becomes do_not_deploy with instructions to withdraw, observe and report, and request officer support.",
        {"flags": ["weapon_reported"], "description": "PCSO reports one of the group has produced a knife"},
    ),
    "scene_secured": _example(
        "Officers have secured the scene",
        "The change lowers the risk: the decision may become less strict, and says which change allowed it.",
        {"phase": "scene_secured", "risk_level": "low"},
    ),
    "risk_raised": _example(
        "Location risk raised to medium",
        "Intelligence raises the location's risk: the decision gains a dynamic risk assessment condition.",
        {"risk_level": "medium", "markers": ["dangerous_dog"]},
    ),
}

CANDIDATES_EXAMPLES: dict[str, dict[str, Any]] = {
    "asb_three_officers": _example(
        "ASB call, three PCSOs on duty",
        "One officer in their home neighbourhood, one from another LPA, one still in foundation training: ranked with reasons.",
        {
            "force": "west-midlands",
            "task": "attend",
            "call": {
                "type": "asb.street_drinking",
                "reference": "WMP-20261122-0450",
                "phase": "in_progress",
                "grade": "priority",
            },
            "location": _WMP_LOCATION,
            "officers": [
                {**_WMP_OFFICER, "id": "PCSO 4521", "designated_powers": ["alcohol.pspo_surrender", "dispersal_direction"]},
                {**_WMP_OFFICER, "id": "PCSO 3307", "home_lpa": "birmingham-east", "home_neighbourhood": "stechford"},
                {**_WMP_OFFICER, "id": "PCSO 6120", "training_status": "foundation"},
            ],
        },
    ),
}

ABSTRACTION_EXAMPLES: dict[str, dict[str, Any]] = {
    "event_cover": _example(
        "PCSO moved to cover a city-centre event",
        "A PCSO from Ladywood covering a Saturday event in another LPA for eight hours.",
        {
            "force": "west-midlands",
            "officer_id": "PCSO 4521",
            "home_lpa": "birmingham-west",
            "home_neighbourhood": "ladywood",
            "lpa": "birmingham-central",
            "neighbourhood": "city-centre",
            "reason": "out_of_area",
            "description": "Reassurance patrol at the German Market",
            "started_at": "2026-11-21T10:00:00Z",
            "hours": 8,
        },
    ),
}

AUTHORISATION_EXAMPLES: dict[str, dict[str, Any]] = {
    "sergeant": _example(
        "Sergeant authorises",
        "The neighbourhood sergeant records the authorisation and its justification.",
        {
            "authorised_by": "PS 2211 Khan",
            "justification": "Event cover agreed at the daily management meeting; no ASB hotspots tasked in Ladywood.",
            "hours": 8,
        },
    ),
}

IMPACT_EXAMPLES: dict[str, dict[str, Any]] = {
    "medium_risk_refers": _example(
        "Medium-risk locations referred instead of deployed with conditions",
        "A candidate WMP rule set in which medium risk refers to a supervisor; replays last month's decisions.",
        {
            "files": {
                "west-midlands/rules.json": {
                    "rules": [
                        {
                            "id": "risk.dynamic_assessment",
                            "code": "dynamic_risk_assessment",
                            "effect": "refer",
                            "when": {"risk_levels": ["medium", "high"]},
                            "citation": {
                                "document": "wmp-policy",
                                "clause": "2.7.16",
                                "quote": "PCSOs retain responsibility for dynamic risk assessment.",
                            },
                            "message": "Medium or higher risk location: a supervisor decides.",
                        }
                    ]
                }
            },
            "from": "2026-10-01T00:00:00Z",
            "to": "2026-11-01T00:00:00Z",
        },
    ),
}

RELOAD_EXAMPLES: dict[str, dict[str, Any]] = {
    "reload": _example(
        "Reload after a policy change",
        "Every force loaded now must still be in POLICY_DIR; the body may be left out.",
        {},
    ),
    "retire_a_force": _example(
        "Reload that stops deciding for Kent",
        "POLICY_DIR no longer holds kent/: name it, or the reload is refused and the loaded policy kept.",
        {"allow_removal": ["kent"]},
    ),
}

# Answers to the "asb_deployable" request above, as the service gives them (the full one trimmed: the
# longer lists keep their first entry, the summary its first lines).
FULL_ASSESSMENT_EXAMPLE: dict[str, Any] = {
    "assessment_id": "8140e8a3-e156-4dbb-9325-64ba8346be0d",
    "decided_at": "2026-11-25T11:43:25.867491Z",
    "decision": "deploy_with_conditions",
    "may_assign": True,
    "summary": {
        "headline": "Deploy with conditions: safeguarding escalation (WMP 2.7.7)",
        "lines": [
            "Safeguarding escalation (WMP 2.7.7)",
            "No custody conveyance (APP Custody)",
            "No arrest or search (PRA 2002 Sch 3B, Part 1, paras 1 and 2)",
        ],
    },
    "task": "attend",
    "officer_id": "PCSO 4521",
    "call_reference": "WMP-20261122-0412",
    "reasons": [
        {
            "code": "call_type_within_remit",
            "effect": "permit",
            "message": "ASB: nuisance is within the PCSO remit.",
            "citation": {
                "policy": "west-midlands",
                "document": "PCSO Deployment Principles and Practice Policy v2.0",
                "document_id": "wmp-policy",
                "clause": "2.7.3",
                "quote": "Assist police officers in the initial response to incidents, helping to resolve "
                "low-level offending in line with designated powers and role boundaries.",
                "label": "WMP 2.7.3",
            },
        }
    ],
    "conditions": [
        {
            "code": "safeguarding_escalation",
            "effect": "condition",
            "message": "A vulnerable person or safeguarding concern: escalate it to a supervisor at the earliest "
            "opportunity and record the escalation.",
            "citation": {
                "policy": "west-midlands",
                "document": "PCSO Deployment Principles and Practice Policy v2.0",
                "document_id": "wmp-policy",
                "clause": "2.7.7",
                "quote": "PCSOs must escalate safeguarding concerns, emerging threats, or operational "
                "risks to a supervisor at the earliest opportunity. Escalation must be recorded "
                "in accordance with force systems and guidance.",
                "label": "WMP 2.7.7",
            },
        }
    ],
    "superseded": [],
    "limits": {
        "permitted_tasks": ["attend", "house_to_house", "cctv_collection", "reassurance_patrol"],
        "powers_available": [
            {
                "code": "dispersal_direction",
                "name": "Direction to leave a locality (dispersal)",
                "legal_basis": "Anti-social Behaviour, Crime and Policing Act 2014, s35",
            },
            {
                "code": "require_name_address",
                "name": "Require name and address",
                "legal_basis": "Police Reform Act 2002, Schedule 3C, paragraph 3",
            },
            {
                "code": "alcohol.confiscate_young_person",
                "name": "Confiscate alcohol from a person under 18",
                "legal_basis": "Confiscation of Alcohol (Young Persons) Act 1997, s1",
            },
        ],
        "powers_not_held": [
            {
                "code": "penalty.disorder",
                "name": "Penalty notice for disorder",
                "legal_basis": "Criminal Justice and Police Act 2001, Part 1, Chapter 1",
            },
            {
                "code": "community_protection_notice",
                "name": "Community protection notice",
                "legal_basis": "Anti-social Behaviour, Crime and Policing Act 2014, s43",
            },
            {
                "code": "alcohol.pspo_surrender",
                "name": "Require surrender of alcohol in a public spaces protection order area",
                "legal_basis": "Anti-social Behaviour, Crime and Policing Act 2014, s63",
            },
            {
                "code": "penalty.pspo_breach",
                "name": "Fixed penalty notice for breach of a public spaces protection order",
                "legal_basis": "Anti-social Behaviour, Crime and Policing Act 2014, s68",
            },
        ],
        "powers_suspended": [],
        "prohibited": [
            {
                "code": "no_custody_conveyance",
                "effect": "prohibit",
                "message": "Do not convey detainees to or from custody without a police officer, nor book a prisoner in.",
                "citation": {
                    "policy": "national",
                    "document": "College of Policing APP: PCSO operational deployment",
                    "document_id": "app-operational-deployment",
                    "clause": "Custody",
                    "quote": "PCSOs should not be used to convey detainees to, or from, custody "
                    "in the absence of a police officer, or to enter a custody suite to "
                    "book a prisoner in.",
                    "label": "College of Policing APP Custody",
                },
            }
        ],
        "withdraw_when": [
            "If the situation escalates: keep the public back, observe and report from a safe "
            "distance by radio (PCSO apprenticeship standard Occupational Profile)."
        ],
        "withdrawal": [
            {
                "code": "withdraw_observe_report",
                "effect": "withdraw",
                "message": "If the situation escalates: keep the public back, observe and report from a safe distance by radio.",
                "citation": {
                    "policy": "national",
                    "document": "PCSO apprenticeship standard: occupational profile",
                    "document_id": "apprenticeship-standard",
                    "clause": "Occupational Profile",
                    "quote": "keeping the public at a safe distance from an ongoing incident, or "
                    "observing and reporting from a safe distance (dependent on dynamic "
                    "risk assessment)",
                    "label": "PCSO apprenticeship standard Occupational Profile",
                },
            }
        ],
        "transport": "On foot or by pedal cycle; no force vehicle (not an authorised driver).",
        "transport_basis": [
            {
                "code": "patrol_foot_or_cycle",
                "effect": "transport",
                "message": "On foot or by pedal cycle",
                "citation": {
                    "policy": "west-midlands",
                    "document": "PCSO Deployment Principles and Practice Policy v2.0",
                    "document_id": "wmp-policy",
                    "clause": "2.6.1",
                    "quote": "The default expectation is that PCSOs will patrol on foot or "
                    "by pedal cycle (where trained); with vehicle use reserved for "
                    "operational necessity.",
                    "label": "WMP 2.6.1",
                },
            }
        ],
    },
    "alternatives": [],
    "policy": {
        "id": "west-midlands",
        "name": "West Midlands Police",
        "document": "PCSO Deployment Principles and Practice Policy v2.0",
        "version": "2.0",
        "effective_from": "2026-04-01",
        "review_due": "2028-04-01",
        "digest": "sha256:5a25234763e5bb2f353eccdcb05698fdc813089024d0b39a8ea862782fa5f247",
        "past_review_date": False,
    },
    "warnings": [],
    "screening": [],
    "abstraction_id": None,
    "candidates_id": None,
    "escalation": None,
}
COMPACT_ASSESSMENT_EXAMPLE: dict[str, Any] = {
    "view": "compact",
    "assessment_id": "8140e8a3-e156-4dbb-9325-64ba8346be0d",
    "decision": "deploy_with_conditions",
    "may_assign": True,
    "officer_id": "PCSO 4521",
    "summary": {
        "headline": "Deploy with conditions: safeguarding escalation (WMP 2.7.7)",
        "lines": [
            "Safeguarding escalation (WMP 2.7.7)",
            "No custody conveyance (APP Custody)",
            "No arrest or search (PRA 2002 Sch 3B, Part 1, paras 1 and 2)",
            "No confrontation (WMP 2.7.17)",
            "No enforcement beyond powers (WMP 2.7.6)",
            "No civilian clothing or covert (WMP 3.2)",
            "No restraint equipment (WMP 3.5)",
            "Withdraw observe report (PCSO apprenticeship standard Occupational Profile)",
            "Withdraw when risk escalates (WMP 2.7.6)",
            "Withdraw outside principles (WMP 2.7.16)",
            "Request officer support (WMP 2.7.7)",
            "No positive duty to intervene (WMP 2.7.18)",
        ],
    },
    "codes": ["call_type_within_remit", "safeguarding_escalation"],
    "clauses": ["WMP 2.7.3", "WMP 2.7.7"],
    "policy": {
        "id": "west-midlands",
        "version": "2.0",
        "digest": "sha256:5a25234763e5bb2f353eccdcb05698fdc813089024d0b39a8ea862782fa5f247",
    },
    "abstraction_id": None,
    "escalation": None,
}


# --- the audit trail and abstractions, answers as the service gave them ------------------------------------------

VERIFY_EXAMPLE: dict[str, Any] = {
    "status": "intact",
    "checked": 2,
    "broken": None,
    "chains": [
        {
            "chain": "kent",
            "status": "intact",
            "checked": 1,
            "first_seq": 1,
            "last_seq": 1,
            "head_seq": 1,
            "head_digest": "sha256:c9dab180585ca57cb17266b93820c8fde54f090bbd3fd8921c961207e310b010",
            "checkpoint_seq": None,
            "broken": None,
        },
        {
            "chain": "west-midlands",
            "status": "intact",
            "checked": 1,
            "first_seq": 1,
            "last_seq": 1,
            "head_seq": 1,
            "head_digest": "sha256:a256ef19662cb0d214ff7cc2be8ab2c7713bf823a5310d70cd28376a8655e1d5",
            "checkpoint_seq": None,
            "broken": None,
        },
    ],
}
PUBLIC_KEYS_EXAMPLE: dict[str, Any] = {
    "keys": [
        {
            "key_id": "02a86dba61e1e76c",
            "algorithm": "Ed25519",
            "public_key": "NBcQEvdgM5Evg9pB773ql/2+sRz78x5AKoqw6FWMAP8=",
            "current": True,
        }
    ]
}
PURGE_EXAMPLE: dict[str, Any] = {
    "purge_id": "cb9bc04c-2fa9-4fc6-afea-1f2ddff23f38",
    "purged": 0,
    "through_seq": None,
    "checkpoint_digest": None,
    "cutoff": "2020-11-26T12:45:16.974042Z",
    "chains": [
        {
            "chain": "kent",
            "record_id": "220e8832-432f-4ae1-a4bd-6c57a712e5a4",
            "purged": 0,
            "through_chain_seq": None,
            "checkpoint_digest": None,
        },
        {
            "chain": "west-midlands",
            "record_id": "0701fde8-4ccc-4651-aa98-5309e5086fe9",
            "purged": 0,
            "through_chain_seq": None,
            "checkpoint_digest": None,
        },
    ],
}
ABSTRACTION_RECORD_EXAMPLE: dict[str, Any] = {
    "id": "fb4f806a-0503-46b0-b83a-17e206b8cf14",
    "force": "west-midlands",
    "officer_id": "PCSO 4521",
    "home_lpa": "birmingham-west",
    "home_neighbourhood": None,
    "lpa": None,
    "neighbourhood": None,
    "reason": "out_of_area",
    "description": None,
    "source": "manual",
    "assessment_id": None,
    "started_at": "2026-11-24T18:30:00Z",
    "hours": 3.5,
    "status": "pending",
    "authorised_by": None,
    "justification": None,
    "authorised_at": None,
}
# One force's export: the header, its one entry, and the signature over its newest entry made at export.
EXPORT_NDJSON_EXAMPLE = '{"type":"export","exported_at":"2026-11-25T12:45:16.960344Z","force":"kent","from":null,"to":null,"sign_every":100,"key_id":"02a86dba61e1e76c"}\n{"type":"entry","seq":2,"chain":"kent","chain_seq":1,"digest_version":2,"id":"3f621f89-833b-45cc-a430-478ee68dfc04","kind":"assessment","recorded_at":"2026-11-25T12:45:16.925520Z","force":"kent","task":"attend","call_type":"asb.nuisance","call_reference":"WMP-20261125-0142","officer_id":"PCSO 4521","decision":"deploy_with_conditions","parent_id":null,"policy_id":"kent","policy_version":"O38b (reviewed February 2022)","policy_digest":"sha256:34af996bfe2ccc4f561941b058f8fe33f0115f5ff9c9230c992a657432df0e15","caller_role":"dispatcher","caller_key_id":"key-bf5ff352c08e","answer_digest":null,"prev_digest":"sha256:a50ae885169a97c5c755e7368fd20f56e32a572bd160f24e4897fb6d215b9618","digest":"sha256:c9dab180585ca57cb17266b93820c8fde54f090bbd3fd8921c961207e310b010","request":{"force":"kent","task":"attend","call":{"type":"asb.nuisance","reference":"WMP-20261125-0142","phase":"in_progress","grade":null,"flags":[],"description":null},"location":{"risk_level":"low","markers":[],"setting":"urban","lpa":null,"neighbourhood":null},"officer":{"id":"PCSO 4521","designated_powers":[],"training_status":"independent","in_uniform":true,"authorised_driver":false,"cycle_trained":false,"home_lpa":null,"home_neighbourhood":null}},"response":{"assessment_id":"3f621f89-833b-45cc-a430-478ee68dfc04","decided_at":"2026-11-25T12:45:16.925520Z","decision":"deploy_with_conditions","may_assign":true,"summary":{"headline":"Deploy with conditions: 3 conditions (Kent O38b 5.6.1)","lines":["Lone worker procedures (Kent O38b 5.5.2)","Body armour (Kent O38b 4.2.7)","Japan principles (Kent O38b 5.8.4)","No custody conveyance (APP Custody)","No arrest or search (PRA 2002 Sch 3B, Part 1, paras 1 and 2)","No arrest beyond any person (Kent O38b 5.5.1)","No officer safety equipment (Kent O38b 5.5.1)","No blue lights (Kent O38b 5.10.1)","No mobile patrol (Kent O38b 5.6.5)","Powers only in uniform (Kent O38b 4.2.8)","Withdraw observe report (Kent O38b 5.8.2)","Disengage if higher risk (Kent O38b 5.6.4)","Request officer support (Kent O38b 5.6.4)","No positive duty to intervene (Kent O38b 5.8.3)"]},"task":"attend","officer_id":"PCSO 4521","call_reference":"WMP-20261125-0142","reasons":[{"code":"call_type_within_remit","effect":"permit","message":"ASB: nuisance is within the PCSO remit.","citation":{"policy":"kent","document":"PCSO: standards, duties and deployment SOP (O38b)","document_id":"kent-o38b","clause":"5.6.1","quote":"The PCSO contribution to the control strategy and anti-social behaviour will be through visible foot patrol, community engagement, intelligence and evidence gathering and appropriate enforcement of PCSO powers.","label":"Kent O38b 5.6.1"}}],"conditions":[{"code":"lone_worker_procedures","effect":"condition","message":"On single patrol the PCSO is a lone worker: the lone-working procedures for their health and safety must be in place (Community Safety Unit sergeant).","citation":{"policy":"kent","document":"PCSO: standards, duties and deployment SOP (O38b)","document_id":"ke\n{"type":"signature","chain":"kent","chain_seq":1,"digest":"sha256:c9dab180585ca57cb17266b93820c8fde54f090bbd3fd8921c961207e310b010","signed_at":"2026-11-25T12:45:16.963084Z","key_id":"02a86dba61e1e76c","signature":"4jtAEGv+JvMcoarJvhLI1+/YWtVJuKRr3MNSWinaMllzqpZUV1u43LQ7qgib4u1sySUyHhVJQvtlwbR8rcqmAg==","reason":"export"}\n'

ASSESSMENT_PAGE_EXAMPLE: dict[str, Any] = {
    "items": [
        {
            "assessment_id": "3124954a-74ee-455f-9a67-a7668dec35a8",
            "sequence": 2,
            "kind": "assessment",
            "recorded_at": "2026-11-25T12:45:46.007300Z",
            "force": "west-midlands",
            "task": "attend",
            "call_type": "asb.nuisance",
            "call_reference": "WMP-20261125-0142",
            "officer_id": "PCSO 4521",
            "decision": "deploy",
            "parent_id": None,
            "policy_version": "2.0",
            "caller_role": "dispatcher",
        }
    ],
    "next_cursor": "eyJiZWZvcmUiOiAyfQ",
}
POLICIES_EXAMPLE: list[dict[str, Any]] = [
    {
        "id": "kent",
        "name": "Kent Police",
        "publisher": "Kent Police",
        "document": "PCSO: standards, duties and deployment SOP (O38b)",
        "version": "O38b (reviewed February 2022)",
        "effective_from": "2022-02-01",
        "review_due": "2024-02-01",
        "past_review_date": True,
        "digest": "sha256:34af996bfe2ccc4f561941b058f8fe33f0115f5ff9c9230c992a657432df0e15",
        "inherits": ["national"],
        "rule_count": 67,
        "call_type_count": 48,
    },
    {
        "id": "west-midlands",
        "name": "West Midlands Police",
        "publisher": "West Midlands Police",
        "document": "PCSO Deployment Principles and Practice Policy v2.0",
        "version": "2.0",
        "effective_from": "2026-04-01",
        "review_due": "2028-04-01",
        "past_review_date": False,
        "digest": "sha256:5a25234763e5bb2f353eccdcb05698fdc813089024d0b39a8ea862782fa5f247",
        "inherits": ["national"],
        "rule_count": 67,
        "call_type_count": 48,
    },
]
HEALTH_EXAMPLE: dict[str, Any] = {"status": "ok"}
READY_EXAMPLE: dict[str, Any] = {
    "status": "ready",
    "policies": {
        "kent": "sha256:34af996bfe2ccc4f561941b058f8fe33f0115f5ff9c9230c992a657432df0e15",
        "west-midlands": "sha256:5a25234763e5bb2f353eccdcb05698fdc813089024d0b39a8ea862782fa5f247",
    },
    "store": "ok",
    "warnings": ["kent: PCSO: standards, duties and deployment SOP (O38b) was due for review on 2024-02-01"],
}
METRICS_EXAMPLE = (
    "# HELP pcso_decisions_total Decisions answered, by force and outcome.\n"
    "# TYPE pcso_decisions_total counter\n"
    'pcso_decisions_total{decision="deploy_with_conditions",force="west-midlands"} 2.0\n'
    "# HELP pcso_audit_write_failures_total Decisions not answered because they could not be recorded.\n"
    "# TYPE pcso_audit_write_failures_total counter\n"
    "pcso_audit_write_failures_total 0.0\n"
)
