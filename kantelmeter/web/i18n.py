"""The words of the form app itself, in Dutch (the default) and English.

Question texts come from the instrument; this module holds only what the app
says around them: buttons, validation messages, page titles. The language is
chosen by ``?lang=`` (which also sets a cookie), then the cookie, then Dutch.
"""

from __future__ import annotations

from kantelmeter.instruments import LANGUAGES

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "MESSAGES", "choose_language", "translate"]

DEFAULT_LANGUAGE = "nl"

MESSAGES: dict[str, dict[str, str]] = {
    # validation
    "required": {"nl": "Deze vraag moet beantwoord worden.", "en": "This question needs an answer."},
    "invalid_choice": {"nl": "Kies een van de getoonde antwoorden.", "en": "Choose one of the answers shown."},
    "one_answer": {"nl": "Geef maar één antwoord.", "en": "Give one answer only."},
    "number": {"nl": "Vul een getal in, bijvoorbeeld 42.", "en": "Enter a number, for example 42."},
    "whole_number": {"nl": "Vul een heel getal in, zonder komma. Bijvoorbeeld 42.",
                     "en": "Enter a whole number, without a decimal point. For example 42."},
    "bounds": {"nl": "Van {min} tot en met {max}.", "en": "From {min} to {max}."},
    "number_range": {"nl": "Vul een getal in van {min} tot en met {max}.",
                     "en": "Enter a number from {min} to {max}."},
    "date": {"nl": "Vul een datum in als dd-mm-jjjj, bijvoorbeeld 28-05-2010.",
             "en": "Enter a date as dd-mm-yyyy, for example 28-05-2010."},
    "bsn_in_text": {"nl": "Typ hier geen burgerservicenummer (BSN). Haal het nummer weg en probeer het opnieuw.",
                    "en": "Please do not type a citizen service number (BSN) here. Remove the number and try again."},
    "too_long": {"nl": "Dit antwoord is te lang (hoogstens {limit} tekens).",
                 "en": "This answer is too long (at most {limit} characters)."},
    "error_summary": {"nl": "Er is iets niet goed ingevuld", "en": "Something needs your attention"},
    "error_count": {"nl": "Controleer de volgende vragen:", "en": "Please check these questions:"},
    "new_questions": {"nl": "Door uw antwoord zijn er vragen op deze pagina bijgekomen.",
                      "en": "Your answer added questions to this page."},
    # navigation
    "next": {"nl": "Volgende", "en": "Next"},
    "previous": {"nl": "Vorige", "en": "Previous"},
    "finish": {"nl": "Versturen", "en": "Submit"},
    "done_changing": {"nl": "Klaar, terug naar het overzicht", "en": "Done, back to the overview"},
    "page_of": {"nl": "Deel {number} van {total}", "en": "Part {number} of {total}"},
    "required_mark": {"nl": "verplicht", "en": "required"},
    "saved_note": {"nl": "Uw antwoorden worden per pagina bewaard. U kunt stoppen en later verdergaan met dezelfde link.",
                   "en": "Your answers are saved page by page. You can stop and carry on later with the same link."},
    "language_switch": {"nl": "English", "en": "Nederlands"},
    "choose_any": {"nl": "Kruis aan wat van toepassing is.", "en": "Tick all that apply."},
    "date_hint": {"nl": "Bijvoorbeeld 28-05-2010.", "en": "For example 28-05-2010."},
    # the frame: welcome, welcome back, review, closing, privacy
    "welcome_title": {"nl": "Welkom", "en": "Welcome"},
    "welcome_time": {"nl": "Het invullen duurt ongeveer {minutes} minuten. De vragenlijst heeft {parts} delen.",
                     "en": "It takes about {minutes} minutes. The questionnaire has {parts} parts."},
    "welcome_voluntary": {"nl": "Meedoen is vrijwillig. U mag vragen overslaan, behalve de vragen met 'verplicht' erbij.",
                          "en": "Taking part is voluntary. You may skip questions, except the ones marked 'required'."},
    "welcome_privacy": {"nl": "Lees wat wij met uw antwoorden doen", "en": "Read what we do with your answers"},
    "welcome_back_title": {"nl": "Welkom terug", "en": "Welcome back"},
    "welcome_back_text": {"nl": "U was bij deel {number} van {total}. Uw eerdere antwoorden zijn bewaard.",
                          "en": "You were at part {number} of {total}. Your earlier answers have been saved."},
    "welcome_back_done": {"nl": "U heeft alle vragen gehad. Kijk uw antwoorden nog een keer na en verstuur ze.",
                          "en": "You have seen all the questions. Check your answers once more and submit them."},
    "carry_on": {"nl": "Verder gaan", "en": "Carry on"},
    "review_title": {"nl": "Controleer uw antwoorden", "en": "Check your answers"},
    "review_intro": {"nl": "Hieronder staan uw antwoorden. Klopt er iets niet? Klik dan op 'Wijzigen'.",
                     "en": "Your answers are below. Is something not right? Then click 'Change'."},
    "review_lock": {"nl": "Na het versturen kunt u uw antwoorden niet meer veranderen.",
                    "en": "After you submit, you can no longer change your answers."},
    "change": {"nl": "Wijzigen", "en": "Change"},
    "change_which": {"nl": "het antwoord op vraag {number}", "en": "the answer to question {number}"},
    "question_number": {"nl": "Vraag {number}", "en": "Question {number}"},
    "not_answered": {"nl": "Niet beantwoord", "en": "Not answered"},
    "none_ticked": {"nl": "niets aangekruist", "en": "nothing ticked"},
    "not_saved_title": {"nl": "Nog niet bewaard", "en": "Not saved yet"},
    "not_saved_text": {"nl": "Uw antwoorden op deze pagina zijn nog niet bewaard. Dat gebeurt soms als de pagina "
                             "lang open stond of als cookies uit staan. Kijk uw antwoorden na en klik nog een keer "
                             "op de knop.",
                       "en": "Your answers on this page have not been saved yet. This can happen when the page was "
                             "open for a long time or when cookies are off. Check your answers and click the button "
                             "again."},
    "closing_text": {"nl": "Wij hebben uw antwoorden ontvangen. U kunt ze nu niet meer veranderen. U kunt dit venster sluiten.",
                     "en": "We have received your answers. You can no longer change them. You may close this window."},
    "privacy": {"nl": "Privacy", "en": "Privacy"},
    "new_tab": {"nl": "opent in een nieuw tabblad", "en": "opens in a new tab"},
    "privacy_title": {"nl": "Wat wij met uw antwoorden doen", "en": "What we do with your answers"},
    "privacy_who": {"nl": "Wie is verantwoordelijk?", "en": "Who is responsible?"},
    "privacy_why": {"nl": "Waarom stellen wij deze vragen?", "en": "Why do we ask these questions?"},
    "privacy_basis": {"nl": "Waarom mogen wij dat?", "en": "Why are we allowed to?"},
    "privacy_safe": {"nl": "Hoe beschermen wij uw gegevens?", "en": "How do we protect your data?"},
    "privacy_how_long": {"nl": "Hoe lang bewaren wij uw antwoorden?", "en": "How long do we keep your answers?"},
    "privacy_retention": {"nl": "Wij bewaren uw antwoorden {months} maanden. Daarna wissen wij ze.",
                          "en": "We keep your answers for {months} months. Then we erase them."},
    "privacy_rights": {"nl": "Wat zijn uw rechten?", "en": "What are your rights?"},
    "privacy_officer": {"nl": "Vragen over privacy? Neem contact op met onze privacy-medewerker: {officer}.",
                        "en": "Questions about privacy? Contact our data protection officer: {officer}."},
    "contact": {"nl": "Contact", "en": "Contact"},
    "contact_phone": {"nl": "Telefoon", "en": "Phone"},
    "contact_email": {"nl": "E-mail", "en": "E-mail"},
    "contact_website": {"nl": "Website", "en": "Website"},
    # pages
    "thanks_title": {"nl": "Hartelijk dank", "en": "Thank you"},
    "not_found_title": {"nl": "Deze link werkt niet", "en": "This link does not work"},
    "not_found_text": {"nl": "Controleer of u de hele link heeft overgenomen, of vraag een nieuwe aan.",
                       "en": "Check that you copied the whole link, or ask for a new one."},
    "expired_title": {"nl": "Het formulier is verlopen", "en": "The form has expired"},
    "expired_text": {"nl": "Laad de pagina opnieuw en probeer het nog eens. Wat u al had bewaard, blijft bewaard.",
                     "en": "Reload the page and try again. What you saved before is kept."},
    "not_allowed_title": {"nl": "Geen toegang", "en": "No access"},
    "not_allowed_text": {"nl": "U mag deze pagina niet openen.", "en": "You may not open this page."},
    "too_large_title": {"nl": "Te veel gegevens", "en": "Too much data"},
    "too_large_text": {"nl": "Wat u verstuurde is te groot. Maak uw antwoorden korter en probeer het opnieuw.",
                       "en": "What you sent is too large. Make your answers shorter and try again."},
    "error_title": {"nl": "Er ging iets mis", "en": "Something went wrong"},
    "error_text": {"nl": "Probeer het later opnieuw. Wat u al had bewaard, blijft bewaard.",
                   "en": "Please try again later. What you saved before is kept."},
    "back_to_form": {"nl": "Terug naar het formulier", "en": "Back to the form"},
    # interviewer mode
    "login_title": {"nl": "Inloggen voor interviewers", "en": "Interviewer sign-in"},
    "username": {"nl": "Gebruikersnaam", "en": "User name"},
    "password": {"nl": "Wachtwoord", "en": "Password"},
    "login": {"nl": "Inloggen", "en": "Sign in"},
    "logout": {"nl": "Uitloggen", "en": "Sign out"},
    "login_failed": {"nl": "Gebruikersnaam of wachtwoord klopt niet.", "en": "User name or password is not correct."},
    "login_busy": {"nl": "Het is nu erg druk. Probeer het over een minuut opnieuw.",
                   "en": "It is very busy right now. Try again in a minute."},
    "login_blocked": {"nl": "Te veel pogingen. Probeer het over een kwartier opnieuw.",
                      "en": "Too many attempts. Try again in fifteen minutes."},
    "overview_title": {"nl": "Overzicht", "en": "Overview"},
    "overview_intro": {"nl": "Aantallen per vragenlijst, meetmoment en cohort. Antwoorden worden hier niet getoond.",
                       "en": "Counts per questionnaire, occasion and cohort. Answers are not shown here."},
    "instrument": {"nl": "Vragenlijst", "en": "Questionnaire"},
    "occasion": {"nl": "Meetmoment", "en": "Occasion"},
    "cohort": {"nl": "Cohort", "en": "Cohort"},
    "started": {"nl": "Begonnen", "en": "Started"},
    "completed": {"nl": "Afgerond", "en": "Completed"},
    "no_responses": {"nl": "Nog geen antwoorden.", "en": "No responses yet."},
    "respondent": {"nl": "Respondent", "en": "Respondent"},
    "respondents_title": {"nl": "Vragenlijst afnemen", "en": "Administer a questionnaire"},
    "pick_respondent": {"nl": "Kies een bestaande respondent", "en": "Pick an existing respondent"},
    "new_respondent": {"nl": "Nieuwe respondent", "en": "New respondent"},
    "new_respondent_note": {
        "nl": "Naam, BSN en cliëntnummer worden direct omgezet in een pseudoniem en nooit zo bewaard.",
        "en": "Name, citizen service number and client number are turned into a pseudonym at once and never stored as typed."},
    "identifier_bsn": {"nl": "BSN", "en": "Citizen service number (BSN)"},
    "identifier_name": {"nl": "Naam", "en": "Name"},
    "identifier_client_number": {"nl": "Cliëntnummer", "en": "Client number"},
    "optional": {"nl": "niet verplicht", "en": "optional"},
    "start": {"nl": "Beginnen", "en": "Start"},
    "bsn_invalid": {"nl": "Dit is geen geldig BSN (de elfproef klopt niet).",
                    "en": "This is not a valid citizen service number (the eleven test fails)."},
    "unknown_respondent": {"nl": "Deze respondent bestaat niet.", "en": "This respondent does not exist."},
    "cohort_conflict": {"nl": "Dit cohort past niet bij deze respondent. Laat het cohort leeg of controleer het.",
                        "en": "This cohort does not match this respondent. Leave the cohort empty or check it."},
    "started_elsewhere": {"nl": "Deze vragenlijst is al begonnen, op het web of door een andere interviewer.",
                          "en": "This questionnaire has already been started, on the web or by another interviewer."},
    "already_complete": {"nl": "Deze respondent heeft deze vragenlijst op dit meetmoment al ingevuld.",
                         "en": "This respondent has already completed this questionnaire at this occasion."},
    "interview_done": {"nl": "De vragenlijst is afgerond en opgeslagen.", "en": "The questionnaire is complete and saved."},
    "to_overview": {"nl": "Naar het overzicht", "en": "To the overview"},
    "identifier_stored": {"nl": "Opgeslagen (pseudoniem {pseudonym}). Laat leeg om dit te houden.",
                          "en": "Stored (pseudonym {pseudonym}). Leave empty to keep it."},
    "administer": {"nl": "Vragenlijst afnemen", "en": "Administer a questionnaire"},
    # the paper form
    "paper_question": {"nl": "vraag {number}", "en": "question {number}"},
    "paper_eq": {"nl": "bij {question} {answer} is gekozen", "en": "at {question} {answer} is chosen"},
    "paper_ne": {"nl": "bij {question} niet {answer} is gekozen", "en": "at {question} {answer} is not chosen"},
    "paper_lt": {"nl": "het antwoord op {question} kleiner is dan {answer}", "en": "the answer to {question} is less than {answer}"},
    "paper_le": {"nl": "het antwoord op {question} {answer} of minder is", "en": "the answer to {question} is {answer} or less"},
    "paper_gt": {"nl": "het antwoord op {question} groter is dan {answer}", "en": "the answer to {question} is more than {answer}"},
    "paper_ge": {"nl": "het antwoord op {question} {answer} of meer is", "en": "the answer to {question} is {answer} or more"},
    "paper_ticked": {"nl": "bij {question} {answer} is aangekruist", "en": "at {question} {answer} is ticked"},
    "paper_not_ticked": {"nl": "bij {question} {answer} niet is aangekruist", "en": "at {question} {answer} is not ticked"},
    "paper_answered": {"nl": "{question} is beantwoord", "en": "{question} is answered"},
    "paper_not": {"nl": "niet geldt dat {condition}", "en": "it is not so that {condition}"},
    "paper_and": {"nl": "en", "en": "and"},
    "paper_or": {"nl": "of", "en": "or"},
    "paper_only_if": {"nl": "Alleen beantwoorden als {condition}. Anders: {otherwise}.",
                      "en": "Only answer if {condition}. Otherwise: {otherwise}."},
    "paper_go_to": {"nl": "ga naar vraag {number}", "en": "go to question {number}"},
    "paper_repetition": {"nl": "Vul dit deel alleen in als dit probleem in het eerste gesprek aan bod kwam. "
                               "Anders: {otherwise}.",
                         "en": "Fill in this part only if this problem came up in the first conversation. "
                               "Otherwise: {otherwise}."},
    "paper_go_to_end": {"nl": "u bent klaar", "en": "you have finished"},
    "paper_how": {"nl": "Zet een kruisje in het hokje van uw antwoord. Volg de aanwijzingen in de grijze balken. "
                        "De kleine cijfers naast de hokjes zijn voor de verwerking.",
                  "en": "Put a cross in the box of your answer. Follow the instructions in the grey bars. "
                        "The small numbers beside the boxes are for processing."},
    "paper_entry": {"nl": "Voor de invoer: het codeboek geeft bij elk vraagnummer de kolom. Vul de code in die naast het "
                          "gekozen hokje staat.",
                    "en": "For data entry: the codebook gives the column for each question number. Enter the code "
                          "beside the ticked box."},
    "paper_code": {"nl": "Inlogcode: {code}", "en": "Login code: {code}"},
    "paper_greeting": {"nl": "Beste meneer of mevrouw,", "en": "Dear Sir or Madam,"},
    "paper_time": {"nl": "Het invullen duurt ongeveer {minutes} minuten.", "en": "It takes about {minutes} minutes."},
    "paper_return": {"nl": "Stuur de ingevulde vragenlijst terug in de antwoordenvelop. Een postzegel is niet nodig.",
                     "en": "Send the completed questionnaire back in the reply envelope. No stamp is needed."},
    "paper_regards": {"nl": "Met vriendelijke groet,", "en": "Kind regards,"},
    "paper_thanks": {"nl": "Dit was de laatste vraag. Hartelijk dank voor uw medewerking.",
                     "en": "This was the last question. Thank you for taking part."},
    "skip_link": {"nl": "Naar de inhoud", "en": "Skip to content"},
}


def translate(key: str, lang: str, **params: object) -> str:
    """A message of the app in a language, with its values filled in.

    Examples
    --------
    >>> translate("number_range", "nl", min=18, max=110)
    'Vul een getal in van 18 tot en met 110.'
    >>> translate("next", "en")
    'Next'
    """
    return MESSAGES[key][lang].format(**params)


def choose_language(query: str | None, cookie: str | None) -> str:
    """The language of a request: ``?lang=``, then the cookie, then Dutch.

    Examples
    --------
    >>> choose_language("en", None), choose_language(None, "en"), choose_language("fr", None)
    ('en', 'en', 'nl')
    """
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
