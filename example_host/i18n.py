"""A tiny sv/en dictionary for the host's own UI strings (the plugin translates its own).

The English text is the key, so a missing Swedish entry falls back to readable English.
"""

from __future__ import annotations

from decimal import Decimal

from flask import has_request_context, session

LANGUAGES = {"en": "English", "sv": "Svenska"}
DEFAULT_LANGUAGE = "en"

SV: dict[str, str] = {
    "Owner": "Ägare",
    "Coordinator": "Koordinator",
    "Performer": "Utförare",
    "Customers": "Kunder",
    "Invoices": "Fakturor",
    "Payouts": "Utbetalningar",
    "Integrations": "Integrationer",
    "Log in": "Logga in",
    "Log out": "Logga ut",
    "Email": "E-post",
    "Password": "Lösenord",
    "Wrong email or password.": "Fel e-postadress eller lösenord.",
    "Too many failed logins. Wait a few minutes and try again.":
        "För många misslyckade inloggningar. Vänta några minuter och försök igen.",
    "Request too large": "För stor förfrågan",
    "What was sent is larger than this site accepts. Nothing was saved.":
        "Det som skickades är större än webbplatsen tar emot. Ingenting sparades.",
    "Demo logins": "Demoinloggningar",
    "Switch company": "Byt företag",
    "Your companies": "Dina företag",
    "Language": "Språk",
    "New customer": "Ny kund",
    "Edit customer": "Redigera kund",
    "Name": "Namn",
    "Organisation number": "Organisationsnummer",
    "Address": "Adress",
    "Postal code": "Postnummer",
    "City": "Ort",
    "Country code": "Landskod",
    "VAT type": "Momstyp",
    "VAT number": "Momsregistreringsnummer",
    "Save": "Spara",
    "Cancel": "Avbryt",
    "Edit": "Redigera",
    "No customers yet.": "Inga kunder ännu.",
    "Customer saved.": "Kunden är sparad.",
    "Please correct the fields marked below.": "Rätta fälten som är markerade nedan.",
    "New invoice": "Ny faktura",
    "Invoice": "Faktura",
    "Number": "Nummer",
    "Customer": "Kund",
    "Invoice date": "Fakturadatum",
    "Due date": "Förfallodatum",
    "Total incl. VAT": "Totalt inkl. moms",
    "Status": "Status",
    "Draft": "Utkast",
    "Sent": "Skickad",
    "Fortnox": "Fortnox",
    "No invoices yet.": "Inga fakturor ännu.",
    "Description": "Beskrivning",
    "Quantity": "Antal",
    "Unit price": "À-pris",
    "VAT": "Moms",
    "Amount": "Belopp",
    "Net": "Netto",
    "Total": "Totalt",
    "Send": "Skicka",
    "Add row": "Lägg till rad",
    "Rows": "Rader",
    "Create invoice": "Skapa faktura",
    "Invoice created as a draft.": "Fakturan är skapad som utkast.",
    "Invoice sent.": "Fakturan är skickad.",
    "Edit invoice": "Redigera faktura",
    "Invoice saved.": "Fakturan är sparad.",
    "Only sent invoices can be edited here.": "Endast skickade fakturor kan redigeras här.",
    "This invoice was already sent.": "Fakturan är redan skickad.",
    "New payout": "Ny utbetalning",
    "Date": "Datum",
    "Record payout": "Registrera utbetalning",
    "Payout recorded.": "Utbetalningen är registrerad.",
    "No payouts yet.": "Inga utbetalningar ännu.",
    "Page not found": "Sidan finns inte",
    "Access denied": "Åtkomst nekad",
    "Bad request": "Felaktig begäran",
    "Back": "Tillbaka",
    "Sent at": "Skickad",
    "Pending": "Väntar",
    "Synced": "Synkad",
    "Held": "Pausad",
    "Earlier": "Tidigare",
    "Failed": "Misslyckad",
    "Needs attention": "Behöver åtgärd",
    # Messages
    "You are now working in {name}.": "Du arbetar nu i {name}.",
    "Name is required.": "Namn måste anges.",
    "Name is too long (at most 255 characters).": "Namnet är för långt (högst 255 tecken).",
    "Organisation number must look like NNNNNN-NNNN (e.g. 556677-8899).":
        "Organisationsnumret ska se ut som NNNNNN-NNNN (t.ex. 556677-8899).",
    "Enter a valid email address.": "Ange en giltig e-postadress.",
    "Use a two-letter country code such as SE or DE.":
        "Ange en landskod med två bokstäver, t.ex. SE eller DE.",
    "Choose a VAT type from the list.": "Välj en momstyp i listan.",
    "EU reverse charge needs the customer's VAT number.":
        "Omvänd skattskyldighet inom EU kräver kundens momsregistreringsnummer.",
    "Too long (at most {limit} characters).": "För långt (högst {limit} tecken).",
    "Choose a customer.": "Välj en kund.",
    "Enter a date as YYYY-MM-DD.": "Ange ett datum som ÅÅÅÅ-MM-DD.",
    "The due date cannot be before the invoice date.":
        "Förfallodatum kan inte ligga före fakturadatum.",
    "Describe what the row is for.": "Beskriv vad raden gäller.",
    "Quantity must be more than 0.": "Antalet måste vara större än 0.",
    "Enter a quantity.": "Ange ett antal.",
    "The unit price cannot be negative.": "À-priset kan inte vara negativt.",
    "Enter a unit price.": "Ange ett à-pris.",
    "Enter a number.": "Ange ett tal.",
    "“{value}” is not a number (write 1 234,50 or 1234.50).":
        "”{value}” är inte ett tal (skriv 1 234,50 eller 1234.50).",
    "Use at most {places} decimals.": "Använd högst {places} decimaler.",
    "VAT must be 25, 12, 6 or 0 %.": "Momsen måste vara 25, 12, 6 eller 0 %.",
    "EU reverse charge and export customers are invoiced without Swedish VAT (0 %).":
        "Kunder med omvänd skattskyldighet inom EU och exportkunder faktureras utan svensk "
        "moms (0 %).",
    "Add at least one row.": "Lägg till minst en rad.",
    "An invoice needs at least one row before it can be sent.":
        "En faktura behöver minst en rad innan den kan skickas.",
    "Choose a performer of this company.": "Välj en utförare i det här företaget.",
    "The amount must be more than 0.": "Beloppet måste vara större än 0.",
    "Enter an amount.": "Ange ett belopp.",
    "Say what the payout is for.": "Ange vad utbetalningen gäller.",
    "Saved, but it could not be handed to Fortnox yet. The company owner can sync it from "
    "Integrations.": "Sparat, men det kunde inte lämnas över till Fortnox ännu. Företagets "
    "ägare kan synka det från Integrationer.",
    "The form has expired or was not sent from this site. Reload the page and try again.":
        "Formuläret har gått ut eller skickades inte från den här webbplatsen. Ladda om "
        "sidan och försök igen.",
    "Please log in": "Logga in",
    "Conflict": "Konflikt",
    "Performer costs": "Kostnader för utförare",
}

TRANSLATIONS = {"sv": SV}


def current_language() -> str:
    if not has_request_context():  # a worker thread or the CLI: the default language
        return DEFAULT_LANGUAGE
    code = session.get("lang")
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def gettext(text: str, **values: object) -> str:
    """Translate ``text`` to the session's language, then fill ``{placeholders}``."""
    translated = TRANSLATIONS.get(current_language(), {}).get(text, text)
    return translated.format(**values) if values else translated


def format_money(amount: Decimal, currency: str = "SEK") -> str:
    """1 234,50 kr in Swedish, SEK 1,234.50 in English."""
    text = f"{amount:,.2f}"
    if current_language() == "sv":
        # Swedish groups with a (non-breaking) space and uses a decimal comma.
        return text.replace(",", "\u00a0").replace(".", ",") + "\u00a0kr"
    return f"{currency}\u00a0{text}"


def format_quantity(quantity: Decimal) -> str:
    """8.000 -> 8, 1.500 -> 1.5 (1,5 in Swedish); never scientific notation."""
    text = f"{quantity.normalize():f}"
    return text.replace(".", ",") if current_language() == "sv" else text


def format_amount_input(amount: Decimal) -> str:
    """An amount as someone would type it into a form: 1234.50 (1234,50 in Swedish).

    No thousands separator, so what a form shows is read back as the same number.
    """
    text = f"{amount:.2f}"
    return text.replace(".", ",") if current_language() == "sv" else text
